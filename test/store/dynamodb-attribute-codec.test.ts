import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { fromWireItem, toWireItem, type WireItem } from '../../src/store/dynamodb/attribute-codec.js';

/**
 * The record path's own marshalling (attribute-codec.ts) against the SDK's, with the options
 * the document client had (client.ts): the same attribute values on the wire (binaries aside,
 * which travel as base64 in the JSON body), and the same native values back, numbers through
 * `Number(text)`.
 */
const NUMBERS = [0, -0, 1, -1, 0.1, 0.30000000000000004, 1 / 3, 1e-130, -1e-130, 123456789.123456, 2 ** 53 - 1, -(2 ** 53 - 1), 2.5e-308, 4.9e-124, 9007.19925474099];

const ITEM = {
  bright_uid: 'user-1',
  category: 'd0_unauth_features',
  features: {
    data: {
      s: 'text ✓ \u{1F600}',
      empty: '',
      n: 42,
      f: 0.1,
      t: true,
      no: false,
      nil: null,
      list: [1, 'a', null, [true, { x: 2.5 }], {}],
      map: { nested: { deeper: [0.5, -7] } },
      numbers: NUMBERS,
      bin: new Uint8Array([0, 1, 2, 250, 255]),
    },
    meta: { created_at: '2026-12-06T10:00:00.000Z', updated_at: '2026-12-06T10:00:00.000Z', compute_id: null },
  },
  expires_at: 1796558400,
};

function sdkWire(item: Record<string, unknown>): unknown {
  // The SDK's attribute values, binaries as base64 as its JSON protocol sends them.
  return JSON.parse(
    JSON.stringify(marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false }), (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
    ),
  ) as unknown;
}

describe('DynamoDB attribute codec', () => {
  test('writes the attribute values the SDK writes', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(toWireItem(ITEM))), sdkWire(ITEM));
  });

  test('drops undefined members of maps and lists, as removeUndefinedValues did', () => {
    const item = { a: undefined, b: [1, undefined, 2], c: { d: undefined, e: 'x' } };
    assert.deepEqual(toWireItem(item), sdkWire(item));
  });

  test('reads back what it wrote, numbers exact, binaries as Uint8Array', () => {
    const back = fromWireItem(JSON.parse(JSON.stringify(toWireItem(ITEM))) as WireItem);
    const expected = unmarshall(marshall(ITEM), { wrapNumbers: (text: string) => Number(text) });
    assert.deepEqual(back, expected);
    const data = (back.features as { data: { numbers: number[]; bin: unknown } }).data;
    for (const [i, n] of NUMBERS.entries()) assert.ok(Object.is(data.numbers[i], n === 0 ? 0 : n), `number ${String(n)}`);
    assert.ok(data.bin instanceof Uint8Array, 'data.bin instanceof Uint8Array');
    assert.deepEqual([...data.bin], [0, 1, 2, 250, 255]);
  });

  test('reads sets (an old item may hold one) as Sets, as the document client did', () => {
    const back = fromWireItem({ ss: { SS: ['a', 'b'] }, ns: { NS: ['1', '2.5'] }, bs: { BS: ['AAE='] } });
    assert.deepEqual(back.ss, new Set(['a', 'b']));
    assert.deepEqual(back.ns, new Set([1, 2.5]));
    assert.deepEqual([...(back.bs as Set<Uint8Array>)].map((b) => [...b]), [[0, 1]]);
  });

  test('refuses what DynamoDB cannot hold exactly, as the SDK did', () => {
    for (const bad of [NaN, Infinity, 2 ** 53, -(2 ** 53)]) {
      assert.throws(() => toWireItem({ x: bad }));
      assert.throws(() => marshall({ x: bad }));
    }
    assert.throws(() => toWireItem({ x: new Date() }), /Unsupported type/);
    assert.throws(() => toWireItem({ x: new Set(['a']) }), /Unsupported type/);
  });
});
