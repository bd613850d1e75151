import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Item } from './layout.js';

/**
 * Native values ⇄ DynamoDB attribute values for the requests the bare client sends (fast-io.ts).
 * It gives what the document client gave with this backend's options (client.ts:
 * `removeUndefinedValues`, no class instances, every N through `Number(text)`), restricted to
 * the values this backend stores: strings, numbers, booleans, null, binaries, lists and plain
 * maps. A number is sent as `String(n)` (JavaScript's shortest exact form, as before) and read
 * back with `Number(text)`, so a stored double comes back bit for bit. Sets are read (an old
 * item may hold one) as `Set`s, as before; writing one, or any other value, throws.
 */
export function marshalItem(item: Item): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const key in item) {
    const value: unknown = item[key];
    if (value !== undefined) out[key] = marshalValue(value);
  }
  return out;
}

export function marshalValue(value: unknown): AttributeValue {
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'number':
      return { N: numberText(value) };
    case 'boolean':
      return { BOOL: value };
    case 'object': {
      if (value === null) return { NULL: true };
      if (Array.isArray(value)) {
        const list: AttributeValue[] = [];
        for (const v of value as unknown[]) if (v !== undefined) list.push(marshalValue(v));
        return { L: list };
      }
      if (value instanceof Uint8Array) return { B: value };
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) return { M: marshalItem(value) };
      break;
    }
    default:
      break;
  }
  throw new Error(`Unsupported type passed: ${String(value)}`);
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`Special numeric value ${String(n)} is not allowed`);
  if (n > Number.MAX_SAFE_INTEGER || n < Number.MIN_SAFE_INTEGER) throw new Error(`Number ${String(n)} is outside the safe integer range`);
  return String(n);
}

/** A marshalled map of expression values or keys (`:x` → value), undefined entries dropped. */
export function marshalValues(values: Record<string, unknown>): Record<string, AttributeValue> {
  return marshalItem(values);
}

export function unmarshalItem(item: Record<string, AttributeValue>): Item {
  const out: Item = {};
  for (const key in item) {
    const value = item[key];
    if (value !== undefined) out[key] = unmarshalValue(value);
  }
  return out;
}

export function unmarshalValue(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.M !== undefined) return unmarshalItem(value.M);
  if (value.L !== undefined) return value.L.map(unmarshalValue);
  if (value.BOOL !== undefined) return Boolean(value.BOOL);
  if (value.NULL !== undefined) return null;
  if (value.B !== undefined) return value.B;
  if (value.SS !== undefined) return new Set(value.SS);
  if (value.NS !== undefined) return new Set(value.NS.map(Number));
  if (value.BS !== undefined) return new Set(value.BS);
  throw new Error(`No value defined: ${JSON.stringify(value)}`);
}
