/**
 * Item sizes counted the way DynamoDB counts them against its 400 KB item limit, rounded up
 * wherever DynamoDB's published rule is approximate, so that an item this module accepts is
 * never refused for its size by DynamoDB:
 * - string: UTF-8 bytes; binary: bytes; boolean and null: 1 byte;
 * - number: 2 bytes + 1 per two significant digits (+1 when negative). DynamoDB documents
 *   "about 1 byte per two significant digits + 1 byte"; the extra byte is margin (and is what
 *   dynalite charges at most);
 * - list or map: 3 bytes + per element 1 byte + (for a map) the key's UTF-8 length + the element;
 * - item: the sum over its attributes of the name's UTF-8 length + the value's size.
 */

/** DynamoDB's maximum item size (names and values together). */
export const MAX_ITEM_BYTES = 400 * 1024;

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function numberSize(n: number): number {
  return 2 + Math.ceil(Math.max(1, significantDigits(Math.abs(n))) / 2) + (n < 0 ? 1 : 0);
}

/**
 * Significant decimal digits of `String(m)` for m ≥ 0 (its mantissa, without leading and
 * trailing zeros). Every write sizes each number of its item, so neither path builds a string
 * it does not need: a safe integer is counted by division (exact there), any other number by one
 * scan of its text.
 */
function significantDigits(m: number): number {
  if (Number.isSafeInteger(m)) {
    if (m === 0) return 0;
    while (m % 10 === 0) m /= 10;
    let digits = 1;
    while (m >= 10) {
      m = Math.floor(m / 10);
      digits++;
    }
    return digits;
  }
  const text = String(m);
  let first = -1;
  let last = -1;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 101 /* e */) break;
    if (c < 48 || c > 57) continue;
    digits++;
    if (c !== 48) {
      if (first < 0) first = digits;
      last = digits;
    }
  }
  return first < 0 ? 0 : last - first + 1;
}

/** Size of one attribute value (without its name). `undefined` counts 0 (it is not stored). */
export function valueSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return utf8Length(value);
    case 'number':
      return numberSize(value);
    case 'boolean':
      return 1;
    case 'undefined':
      return 0;
    case 'object': {
      if (value === null) return 1;
      if (value instanceof Uint8Array) return value.byteLength;
      if (Array.isArray(value)) {
        let size = 3;
        for (const element of value) size += 1 + valueSize(element);
        return size;
      }
      let size = 3;
      const map = value as Readonly<Record<string, unknown>>;
      for (const key in map) {
        const element = map[key];
        if (element !== undefined) size += 1 + utf8Length(key) + valueSize(element);
      }
      return size;
    }
    default:
      throw new TypeError(`Cannot size a ${typeof value} for DynamoDB`);
  }
}

/** Size of a whole item: attribute names plus values. */
export function itemSize(item: Readonly<Record<string, unknown>>): number {
  let size = 0;
  for (const name in item) {
    const value = item[name];
    if (value !== undefined) size += utf8Length(name) + valueSize(value);
  }
  return size;
}
