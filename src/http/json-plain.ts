/**
 * The read bodies as clients send them, parsed without `JSON.parse`: the multi-read's
 * `{"meta":{"source":"…"},"data":{"entity_type":"…","entity_value":"…","feature_list":["…",…]}}`
 * and the batch read's, with `entity_values` in place of `entity_value`, written as
 * `JSON.stringify` writes them (these keys in this order) or Python's `json.dumps` (the same with
 * `", "` and `": "`: any JSON whitespace between tokens is taken), every string free of escapes
 * and control characters. For such text the value is what `JSON.parse` gives. Anything else
 * (another key order, a repeated or extra key, an escape, a number) gives `undefined`, and the
 * caller parses the text with `JSON.parse` (json-body.ts), whose answers, errors included, are
 * the contract.
 *
 * Why: `JSON.parse` internalizes every key and short string value in V8's string table, hash
 * lookups that mostly miss the cache under load; one compiled regular expression and slices of
 * the body cost about half as much (decision record 5, round 6).
 */

/** A JSON string's content without escapes or control characters (so no quote either). */
const STRING = String.raw`[^"\\\x00-\x1f]*`;
/** JSON's insignificant whitespace. It holds no quote, so no match can start a string early. */
const W = String.raw`[ \t\n\r]*`;
/** A JSON array of such strings: the whole list's text between the brackets. */
const STRINGS = String.raw`((?:"${STRING}"(?:${W},${W}"${STRING}")*)?)`;

/**
 * A JSON text as a regular expression: in the template's literal text, `{`, `}`, `[`, `]`, `:` and
 * `,` are JSON's punctuation and take whitespace on either side; the interpolated patterns (the
 * strings and their captures) are inserted as they are.
 */
function jsonShape(literals: TemplateStringsArray, ...patterns: string[]): RegExp {
  const punctuated = literals.raw.map((text) => text.replace(/[{}[\]:,]/g, (c) => `${W}\\${c}${W}`));
  const source = `^${W}${punctuated.map((text, i) => text + (patterns[i] ?? '')).join('')}${W}$`;
  // One whitespace pattern between two tokens, never two in a row: two adjacent `[ \t\n\r]*`
  // could split a run of whitespace in n ways, and a long run before a mismatch would backtrack
  // quadratically.
  return new RegExp(source.split(`${W}${W}`).join(W).split(`${W}${W}`).join(W));
}

const MULTI_READ = jsonShape`{"meta":{"source":"(${STRING})"},"data":{"entity_type":"(${STRING})","entity_value":"(${STRING})","feature_list":[${STRINGS}]}}`;
const BATCH_READ = jsonShape`{"meta":{"source":"(${STRING})"},"data":{"entity_type":"(${STRING})","entity_values":[${STRINGS}],"feature_list":[${STRINGS}]}}`;

/** Between two strings of a list: a comma, and whitespace around it (no string holds a quote). */
const SEPARATOR = new RegExp(`"${W},${W}"`);

/** The strings of a list matched by `STRINGS`. */
function strings(list: string): string[] {
  if (list === '') return [];
  const inner = list.slice(1, -1);
  return /[ \t\n\r]/.test(inner) ? inner.split(SEPARATOR) : inner.split('","');
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
