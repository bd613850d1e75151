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
  const [mantissa = ''] = String(Math.abs(n)).split('e');
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
  return 2 + Math.ceil(Math.max(1, digits) / 2) + (n < 0 ? 1 : 0);
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
      for (const [key, element] of Object.entries(value)) {
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
  for (const [name, value] of Object.entries(item)) {
    if (value !== undefined) size += utf8Length(name) + valueSize(value);
  }
  return size;
}
