import type { Item } from './layout.js';

/**
 * Native values ⇄ DynamoDB's JSON wire form of attribute values, for the requests the
 * record path sends (fast-io.ts). It gives what the document client gave with this
 * backend's options (client.ts: `removeUndefinedValues`, no class instances, every N through
 * `Number(text)`), restricted to the values this backend stores: strings, numbers, booleans,
 * null, binaries, lists and plain maps. A number is sent as `String(n)` (JavaScript's shortest
 * exact form, as before) and read back with `Number(text)`, so a stored double comes back bit
 * for bit; a binary travels as base64 (as the SDK sends it) and is read back as a Uint8Array.
 * Sets are read (an old item may hold one) as `Set`s, as before; writing one, or any other
 * value, throws.
 */
export type WireValue =
  | { S: string }
  | { N: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { B: string }
  | { L: WireValue[] }
  | { M: WireItem }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] };

export type WireItem = Record<string, WireValue>;

export function toWireItem(item: Item): WireItem {
  const out: WireItem = {};
  for (const key in item) {
    const value: unknown = item[key];
    if (value !== undefined) out[key] = toWire(value);
  }
  return out;
}

export function toWire(value: unknown): WireValue {
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
        const list: WireValue[] = [];
        for (const v of value as unknown[]) if (v !== undefined) list.push(toWire(v));
        return { L: list };
      }
      if (value instanceof Uint8Array) return { B: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) return { M: toWireItem(value) };
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

export function fromWireItem(item: WireItem): Item {
  const out: Item = {};
  for (const key in item) {
    const value = item[key];
    if (value !== undefined) out[key] = fromWire(value);
  }
  return out;
}

function bytes(base64: string): Uint8Array {
  const b = Buffer.from(base64, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function fromWire(value: WireValue): unknown {
  if ('S' in value) return value.S;
  if ('N' in value) return Number(value.N);
  if ('M' in value) return fromWireItem(value.M);
  if ('L' in value) return value.L.map(fromWire);
  if ('BOOL' in value) return Boolean(value.BOOL);
  if ('NULL' in value) return null;
  if ('B' in value) return bytes(value.B);
  if ('SS' in value) return new Set(value.SS);
  if ('NS' in value) return new Set(value.NS.map(Number));
  if ('BS' in value) return new Set(value.BS.map(bytes));
  throw new Error(`No value defined: ${JSON.stringify(value)}`);
}
