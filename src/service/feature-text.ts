/**
 * Features picked from a feature map's JSON text without parsing it. The text must be what
 * `JSON.stringify` wrote (as every store-read text is, see `recordDataText` in model.ts): no
 * whitespace, each key once, every key and value in its one canonical spelling. A value's text
 * is then exactly what `JSON.stringify` writes for the parsed value, so the picked text is
 * byte for byte `JSON.stringify` of the map of the picked features.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Keys an object puts first whatever their insertion order (array indices). */
const INDEX_KEY = /^(?:0|[1-9]\d{0,9})$/;

export function isIndexKey(key: string): boolean {
  const first = key.charCodeAt(0);
  return first >= 0x30 && first <= 0x39 && INDEX_KEY.test(key) && Number(key) < 2 ** 32 - 1;
}

/** The index after the closing quote of the string whose opening quote is at `at`, or -1. */
function stringEnd(text: string, at: number): number {
  let quote = text.indexOf('"', at + 1);
  while (quote !== -1) {
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    quote = text.indexOf('"', quote + 1);
  }
  return -1;
}

/** The index after the value that starts at `at`, or -1 when the text is cut short. */
function valueEnd(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return stringEnd(text, at);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number, true, false or null: up to the next comma or the end of the map.
    for (let i = at; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === COMMA || c === CLOSE_BRACE) return i;
    }
    return -1;
  }
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i) - 1;
      if (i < 0) return -1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return -1;
}

/** The name of a key written with an escape, when the key is `JSON.stringify` of it (else it matches no name). */
function escapedName(key: string): string | undefined {
  const name = JSON.parse(key) as string;
  return JSON.stringify(name) === key ? name : undefined;
}

/**
 * `JSON.stringify` of the map of the features of `text` named in `names`, in the order of
 * `names` (names the map lacks left out): what `JSON.stringify` gives for a null-prototype
 * object filled in that order from the parsed map. Undefined when a name is an array index
 * (the object would put it first, not in the order of `names`) or the text is not a map.
 * Walks the top-level keys and stops once every name is found.
 *
 * A key's text is `JSON.stringify` of its name, so a key without a backslash is its name in
 * quotes: it is looked up as it is, and only a key with an escape is parsed. The names are not
 * serialized for the comparison.
 */
export function pickFeatures(text: string, names: ReadonlySet<string>): string | undefined {
  if (text.charCodeAt(0) !== OPEN_BRACE || text.charCodeAt(text.length - 1) !== CLOSE_BRACE) return undefined;
  for (const name of names) if (isIndexKey(name)) return undefined;
  const picked = new Map<string, string>();
  let left = names.size;
  const last = text.length - 1;
  /** The first backslash at or after the current key, or -1: found once per stretch, so the walk stays linear. */
  let slash = text.indexOf('\\');
  for (let at = 1; left > 0 && at < last; ) {
    const keyEnd = text.charCodeAt(at) === QUOTE ? stringEnd(text, at) : -1;
    if (keyEnd === -1 || text.charCodeAt(keyEnd) !== COLON) return undefined;
    const end = valueEnd(text, keyEnd + 1);
    if (end === -1 || (end !== last && text.charCodeAt(end) !== COMMA)) return undefined;
    if (slash !== -1 && slash < at) slash = text.indexOf('\\', at);
    const name = slash === -1 || slash > keyEnd ? text.slice(at + 1, keyEnd - 1) : escapedName(text.slice(at, keyEnd));
    if (name !== undefined && names.has(name) && !picked.has(name)) {
      picked.set(name, text.slice(at, end));
      left--;
    }
    at = end + 1;
  }
  let out = '';
  for (const name of names) {
    const feature = picked.get(name);
    if (feature !== undefined) out += out === '' ? feature : `,${feature}`;
  }
  return `{${out}}`;
}
