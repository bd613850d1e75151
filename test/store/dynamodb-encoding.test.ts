import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { KeyNotStorableError } from '../../src/errors.js';
import type { FeatureMap, JsonValue } from '../../src/model.js';
import { itemSize, valueSize } from '../../src/store/dynamodb/item-size.js';
import type { FeatureStore } from '../../src/store/ports.js';
import { openStore } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';

/**
 * Values DynamoDB cannot hold as sent (nesting past its limit, numbers below 1e-130, unpaired
 * surrogates, a `__proto__` key the SDK would drop) still round-trip exactly: such a feature is
 * stored as a Binary of its JSON text. Everything else stays native, in the old layout.
 */
const CAT = 'd0_unauth_features';
let n = 0;
const uid = (): string => `enc-${process.pid}-${++n}`;

function nest(levels: number): JsonValue {
  let v: JsonValue = 1;
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

describe('DynamoDB value encoding', () => {
  let instance: DynamoDbInstance;
  let store: FeatureStore;

  before(async () => {
    instance = await startDynamoDbInstance({ server: 'dynalite' });
    store = await openStore(instance);
  });
  after(async () => {
    await store.close();
    await instance.teardown();
  });

  async function roundTrip(data: FeatureMap): Promise<Record<string, AttributeValue> | undefined> {
    const id = uid();
    await store.writeRecord({ key: { entityType: 'bright_uid', entityValue: id, category: CAT }, data, computeId: null, now: '2025-10-16T10:00:00.000Z' });
    const [record] = await store.getRecords([{ entityType: 'bright_uid', entityValue: id, category: CAT }]);
    assert.deepEqual(record?.data, data);
    assert.equal(JSON.stringify(record?.data), JSON.stringify(data));
    const raw = await instance.raw.send(
      new GetItemCommand({ TableName: instance.tables.bright_uid, Key: { bright_uid: { S: id }, category: { S: CAT } } }),
    );
    return raw.Item?.features?.M?.data?.M;
  }

  test('29 levels inside a feature stay native; deeper features are stored as JSON in a Binary', async () => {
    const stored = await roundTrip({ shallow: nest(29), deep: nest(30), deepest: nest(32), plain: 5 });
    assert.ok(stored?.shallow?.L, 'native list');
    assert.ok(stored?.deep?.B instanceof Uint8Array, 'stored?.deep?.B instanceof Uint8Array');
    assert.ok(stored?.deepest?.B instanceof Uint8Array, 'stored?.deepest?.B instanceof Uint8Array');
    assert.deepEqual(stored?.plain, { N: '5' });
  });

  test('numbers outside DynamoDB\'s range round-trip through the Binary form', async () => {
    const stored = await roundTrip({ tiny: 1e-200, smallest: 5e-324, ok: 1e-130, list: [1, 1e-300] });
    assert.ok(stored?.tiny?.B, 'stored?.tiny?.B');
    assert.ok(stored?.smallest?.B, 'stored?.smallest?.B');
    assert.ok(stored?.list?.B, 'stored?.list?.B');
    assert.ok(stored?.ok?.N, 'stored?.ok?.N');
  });

  test('unpaired surrogates and __proto__ keys round-trip exactly', async () => {
    await roundTrip({ broken: 'a\ud800b', nested: { '\udc00': 1 } });
    const whole = await roundTrip({ ['__proto__']: { x: 1 }, constructor: 2 });
    assert.equal(whole, undefined, 'a feature name the SDK cannot carry: the whole map is one Binary');
  });

  test('a key named constructor (which the SDK reads to tell a map\'s type) round-trips, as a feature or nested', async () => {
    assert.equal(await roundTrip({ constructor: 2 }), undefined, 'the whole map is one Binary');
    const stored = await roundTrip({ nested: { constructor: { name: 'Set' } }, plain: 1 });
    assert.ok(stored?.nested?.B instanceof Uint8Array, 'that feature alone is a Binary');
    assert.deepEqual(stored?.plain, { N: '1' });
  });

  test('an entity value longer than DynamoDB\'s 2,048-byte key: reads find nothing without a request; writes are 422', async () => {
    const requests = instance.requests;
    const long = '日'.repeat(700); // 700 characters, 2,100 bytes
    assert.deepEqual(
      await requests.during(async () => {
        const key = { entityType: 'bright_uid', entityValue: long, category: CAT };
        assert.deepEqual(await store.getRecords([key]), [undefined]);
        assert.deepEqual(await store.getRecords([key, key]), [undefined, undefined]);
      }),
      {},
    );
    await assert.rejects(
      store.writeRecord({ key: { entityType: 'bright_uid', entityValue: long, category: CAT }, data: { a: 1 }, computeId: null, now: '2025-10-16T10:00:00.000Z' }),
      (err: unknown) => err instanceof KeyNotStorableError && err.field === 'entity_value',
    );
    const fits = 'é'.repeat(1024); // exactly 2,048 bytes
    await roundTrip({ ok: fits });
  });
});

describe('DynamoDB item size estimate', () => {
  test('counts names and values the way DynamoDB documents, rounding numbers up', () => {
    assert.equal(valueSize('héllo'), 6);
    assert.equal(valueSize(true), 1);
    assert.equal(valueSize(null), 1);
    assert.equal(valueSize(750), 2 + 1); // digits "75" (trailing zeros do not count)
    assert.equal(valueSize(-0.35), 2 + 1 + 1);
    assert.equal(valueSize(123456789), 2 + 5);
    assert.equal(valueSize([1, 'ab']), 3 + (1 + 3) + (1 + 2));
    assert.equal(valueSize({ a: 1, bc: 'x' }), 3 + (1 + 1 + 3) + (1 + 2 + 1));
    assert.equal(valueSize(Buffer.from('abc')), 3);
    assert.equal(itemSize({ bright_uid: 'u1', n: 1 }), 10 + 2 + 1 + 3);
  });

  test('sizes a number by the significant digits of its text, integers and fractions alike', () => {
    // The rule as written: the mantissa of String(|n|) without the point and outer zeros.
    const byText = (n: number): number => {
      const [mantissa = ''] = String(Math.abs(n)).split('e');
      const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
      return 2 + Math.ceil(Math.max(1, digits) / 2) + (n < 0 ? 1 : 0);
    };
    const numbers = [0, -0, 1, -1, 9, 10, 100, 101, 1e15, 1e20, 1e21, 1.5e300, 5e-324, 1e-130, 0.1, 0.001, 123.456, 1e-7, 1.25e-7];
    numbers.push(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 60, 2 ** 53 - 10, 9007199254740990);
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 20000; i++) {
      const r = next();
      const scale = 10 ** Math.floor(next() * 40 - 20);
      numbers.push(r * scale, -r * scale, Math.floor(r * scale), Math.round(r * 10 ** Math.floor(next() * 16)) * 10 ** Math.floor(next() * 6));
    }
    for (const n of numbers) assert.equal(valueSize(n), byText(n), `size of ${String(n)}`);
  });
});
