/**
 * The read bodies as clients send them, parsed without `JSON.parse`: the multi-read's
 * `{"meta":{"source":"…"},"data":{"entity_type":"…","entity_value":"…","feature_list":["…",…]}}`
 * and the batch read's, with `entity_values` in place of `entity_value`, written as
 * `JSON.stringify` writes them (these keys in this order, no whitespace) and every string free of
 * escapes and control characters. For such text the value is what `JSON.parse` gives. Anything
 * else (whitespace, another key order, a repeated or extra key, an escape, a number) gives
 * `undefined`, and the caller parses the text with `JSON.parse` (json-body.ts), whose answers,
 * errors included, are the contract.
 *
 * Why: `JSON.parse` internalizes every key and short string value in V8's string table, hash
 * lookups that mostly miss the cache under load; one compiled regular expression and slices of
 * the body cost about half as much (decision record 5, round 6).
 */

/** A JSON string's content without escapes or control characters (so no quote either). */
const STRING = String.raw`[^"\\\x00-\x1f]*`;
/** A JSON array of such strings: the whole list's text between the brackets. */
const STRINGS = String.raw`((?:"${STRING}"(?:,"${STRING}")*)?)`;

const MULTI_READ = new RegExp(
  String.raw`^\{"meta":\{"source":"(${STRING})"\},"data":\{"entity_type":"(${STRING})","entity_value":"(${STRING})","feature_list":\[${STRINGS}\]\}\}$`,
);
const BATCH_READ = new RegExp(
  String.raw`^\{"meta":\{"source":"(${STRING})"\},"data":\{"entity_type":"(${STRING})","entity_values":\[${STRINGS}\],"feature_list":\[${STRINGS}\]\}\}$`,
);

/** The strings of a list matched by `STRINGS` (none of them holds a quote). */
function strings(list: string): string[] {
  return list === '' ? [] : list.slice(1, -1).split('","');
}

/** `JSON.parse(text)` for a multi-read body written as described above, else undefined. */
export function parsePlainMultiRead(text: string): unknown {
  const m = MULTI_READ.exec(text);
  if (m === null) return undefined;
  return { meta: { source: m[1] }, data: { entity_type: m[2], entity_value: m[3], feature_list: strings(m[4] as string) } };
}

/** `JSON.parse(text)` for a batch read body written as described above, else undefined. */
export function parsePlainBatchRead(text: string): unknown {
  const m = BATCH_READ.exec(text);
  if (m === null) return undefined;
  return { meta: { source: m[1] }, data: { entity_type: m[2], entity_values: strings(m[3] as string), feature_list: strings(m[4] as string) } };
}
