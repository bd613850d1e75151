import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OutboxEvent } from '../../src/model.js';
import { WriteOrder } from '../../src/store/dynamodb/write-order.js';
import type { FeatureStore, RecordKey, WriteRecordInput, WriteResult } from '../../src/store/ports.js';
import { openStore } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance, type DynamoDbServerKind } from '../support/dynamodb-backend.js';
import { outboxEvent } from '../support/fixtures.js';

/**
 * The order of a record write's two requests (store/dynamodb/write-order.ts): update-first for
 * keys this instance knows exist and while unknown keys mostly exist, put-first once they are
 * mostly new. Every wrong guess falls back through the requests' conditions: two store
 * instances on one table (as two service instances) disagree about what exists, and the
 * outcome is always the one the stored records decide. Requests counted on the wire.
 */
const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
const T0 = Date.parse('2025-10-16T10:00:00.000Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
let n = 0;
const uid = (): string => `order-${process.pid}-${++n}`;
const keyOf = (entityValue: string, category = CAT): RecordKey => ({ entityType: 'bright_uid', entityValue, category });

function write(entityValue: string, i: number, extra: Partial<Omit<WriteRecordInput, 'key'>> & { category?: string } = {}): WriteRecordInput {
  const { category, ...rest } = extra;
  return { key: keyOf(entityValue, category), data: { i }, computeId: `job-${i}`, now: at(i), ...rest };
}

function created(result: WriteResult): boolean | undefined {
  return result.outcome === 'applied' ? result.meta.created : undefined;
}

/** Writes `count` new records through `store`, so that its unknown keys turn out new. */
async function train(store: FeatureStore, count = 20): Promise<void> {
  for (let i = 0; i < count; i++) await store.writeRecord(write(uid(), 1));
}

/** Two store instances on one fresh table (as two service instances), opened for the enclosing describe. */
function twoStores(server: DynamoDbServerKind): { instance: DynamoDbInstance; a: FeatureStore; b: FeatureStore } {
  const s = {} as { instance: DynamoDbInstance; a: FeatureStore; b: FeatureStore };
  before(async () => {
    // Versions off: a write's requests are then the record's alone.
    s.instance = await startDynamoDbInstance({ server, env: { VERSIONS_KEPT: '0' } });
    s.a = await openStore(s.instance);
    s.b = await openStore(s.instance);
  });
  after(async () => {
    await s.a.close();
    await s.b.close();
    await s.instance.teardown();
  });
  return s;
}

describe('WriteOrder: the guess and its bounded memory', () => {
  test('starts update-first; a run of new keys turns it put-first, a run of existing ones back', () => {
    const order = new WriteOrder(1024 * 1024);
    assert.equal(order.putFirst('t', 'a'), false);
    for (let i = 0; i < 10; i++) order.learn('t', true);
    assert.equal(order.putFirst('t', 'a'), false, 'ten new keys do not outweigh the starting assumption');
    order.learn('t', true);
    assert.equal(order.putFirst('t', 'a'), true);
    assert.equal(order.putFirst('other', 'a'), false, 'per table');
    order.remember('a');
    assert.equal(order.putFirst('t', 'a'), false, 'a known key goes update-first');
    for (let i = 0; i < 20; i++) order.learn('t', false);
    assert.equal(order.putFirst('t', 'b'), false);
  });

  test('keeps its keys within the budget, least recently used out first; forget evicts', () => {
    const order = new WriteOrder(10_000);
    for (let i = 0; i < 1000; i++) {
      order.remember(`key-${i}`);
      if (i % 10 === 0) order.remember('key-0'); // used again: stays
    }
    const { keys, bytes } = order.size();
    assert.ok(bytes <= 10_000, `${bytes} bytes`);
    assert.ok(keys > 50 && keys < 1000, `${keys} keys`);
    assert.ok(order.knows('key-0'), 'used recently');
    assert.ok(order.knows('key-999'), 'the newest');
    assert.ok(!order.knows('key-1'), 'the oldest is out');
    order.forget('key-999');
    assert.ok(!order.knows('key-999'), 'forgotten');
    assert.equal(order.size().keys, keys - 1);
  });

  test('budget 0: nothing remembered, always update-first', () => {
    const order = new WriteOrder(0);
    for (let i = 0; i < 50; i++) order.learn('t', true);
    order.remember('a');
    assert.equal(order.enabled, false);
    assert.equal(order.putFirst('t', 'b'), false);
    assert.deepEqual(order.size(), { keys: 0, bytes: 0 });
  });
});

for (const server of ['moto', 'dynalite'] as DynamoDbServerKind[]) {
  describe(`DynamoDB write order, two instances on one table, events off: ${server}`, () => {
    const s = twoStores(server);

    test('after a restart, writes of existing records stay at one UpdateItem each', async () => {
      const ids = Array.from({ length: 30 }, () => uid());
      for (const id of ids) await s.a.writeRecord(write(id, 1));
      const restarted = await openStore(s.instance);
      try {
        const results: WriteResult[] = [];
        const counts = await s.instance.requests.during(async () => {
          for (const id of ids) results.push(await restarted.writeRecord(write(id, 2)));
        });
        assert.deepEqual(counts, { UpdateItem: 30 });
        assert.ok(results.every((r) => created(r) === false), JSON.stringify(results));
      } finally {
        await restarted.close();
      }
    });

    test('a load of new records turns put-first: one PutItem each', async () => {
      const fresh = await openStore(s.instance);
      try {
        await train(fresh);
        const ids = Array.from({ length: 10 }, () => uid());
        const counts = await s.instance.requests.during(async () => {
          for (const id of ids) assert.equal(created(await fresh.writeRecord(write(id, 1))), true);
        });
        assert.deepEqual(counts, { PutItem: 10 });
        // Known now: their next writes are one UpdateItem each.
        assert.deepEqual(await s.instance.requests.during(async () => {
          for (const id of ids) await fresh.writeRecord(write(id, 2));
        }), { UpdateItem: 10 });
      } finally {
        await fresh.close();
      }
    });

    test('put-first for a record another instance created: the put fails, the update keeps its created_at', async () => {
      await train(s.b);
      const id = uid();
      assert.equal(created(await s.a.writeRecord(write(id, 1))), true);
      const { result, counts } = await s.instance.requests.counting(() => s.b.writeRecord(write(id, 2)));
      assert.deepEqual(counts, { PutItem: 1, UpdateItem: 1 });
      assert.equal(created(result), false);
      const [record] = await s.b.getRecords([keyOf(id)]);
      assert.deepEqual(record?.data, { i: 2 });
      assert.equal(record?.meta.created_at, at(1));
      assert.equal(record?.meta.updated_at, at(2));
    });

    test('put-first for a record with a later event time: stale, the record untouched', async () => {
      await train(s.b);
      const id = uid();
      await s.a.writeRecord(write(id, 1, { eventTime: at(100) }));
      const result = await s.b.writeRecord(write(id, 2, { eventTime: at(50) }));
      assert.deepEqual(result, { outcome: 'stale', storedEventTime: at(100) });
      const [record] = await s.a.getRecords([keyOf(id)]);
      assert.deepEqual(record?.data, { i: 1 });
    });

    test('a known record deleted by another instance: the update fails, the put creates it again', async () => {
      const id = uid();
      await s.a.writeRecord(write(id, 1));
      assert.notEqual(await s.b.deleteRecord({ key: keyOf(id), now: at(2) }), undefined);
      const { result, counts } = await s.instance.requests.counting(() => s.a.writeRecord(write(id, 3)));
      assert.deepEqual(counts, { PutItem: 1, UpdateItem: 1 });
      assert.equal(created(result), true);
      const [record] = await s.a.getRecords([keyOf(id)]);
      assert.equal(record?.meta.created_at, at(3));
    });

    test('a category added to an entity this instance knows: a new record, the other untouched', async () => {
      const id = uid();
      await s.a.writeRecord(write(id, 1));
      assert.equal(created(await s.a.writeRecord(write(id, 2, { category: CAT2 }))), true);
      const [first, second] = await s.a.getRecords([keyOf(id), keyOf(id, CAT2)]);
      assert.deepEqual(first?.data, { i: 1 });
      assert.deepEqual(second?.data, { i: 2 });
    });

    test('concurrent first writes from two put-first instances: one creates, the other updates', async () => {
      await train(s.a);
      await train(s.b);
      for (let k = 0; k < 3; k++) {
        const id = uid();
        const results = await Promise.all([s.a.writeRecord(write(id, 1)), s.b.writeRecord(write(id, 2))]);
        assert.deepEqual(results.map(created).sort(), [false, true], JSON.stringify(results));
        const [record] = await s.a.getRecords([keyOf(id)]);
        assert.ok(record?.data.i === 1 || record?.data.i === 2, JSON.stringify(record));
        assert.equal(record?.meta.created_at, results[0] !== undefined && created(results[0]) === true ? at(1) : at(2));
      }
    });

    test('a delete through this instance forgets the key: its next write is put-first again', async () => {
      await train(s.a);
      const id = uid();
      await s.a.writeRecord(write(id, 1));
      await s.a.deleteRecord({ key: keyOf(id), now: at(2) });
      const { result, counts } = await s.instance.requests.counting(() => s.a.writeRecord(write(id, 3)));
      assert.deepEqual(counts, { PutItem: 1 });
      assert.equal(created(result), true);
    });

    test('DYNAMODB_WRITE_ORDER_CACHE_MB=0: update-first always, also after many new records', async () => {
      const off = await openStore(s.instance, { DYNAMODB_WRITE_ORDER_CACHE_MB: '0' });
      try {
        await train(off);
        const id = uid();
        assert.deepEqual(await s.instance.requests.during(() => off.writeRecord(write(id, 1))), { PutItem: 1, UpdateItem: 1 });
        assert.deepEqual(await s.instance.requests.during(() => off.writeRecord(write(id, 2))), { UpdateItem: 1 });
      } finally {
        await off.close();
      }
    });
  });
}

describe('DynamoDB write order with events (moto, transactions)', () => {
  const s = twoStores('moto');
  const event = (id: string): OutboxEvent => outboxEvent(id, { features: ['i'] });

  test('put-first for a record another instance created: a cancelled put transaction, then the update one', async () => {
    for (let i = 0; i < 20; i++) {
      const id = uid();
      await s.b.writeRecord(write(id, 1, { event: event(id) }));
    }
    const id = uid();
    await s.a.writeRecord(write(id, 1, { event: event(id) }));
    const { result, counts } = await s.instance.requests.counting(() => s.b.writeRecord(write(id, 2, { event: event(id) })));
    assert.deepEqual(counts, { TransactWriteItems: 2 });
    assert.equal(created(result), false);
    const [record] = await s.a.getRecords([keyOf(id)]);
    assert.deepEqual(record?.data, { i: 2 });
    assert.equal(record?.meta.created_at, at(1));
    // A put-first write of a new record: one transaction.
    const fresh = uid();
    assert.deepEqual(await s.instance.requests.during(() => s.b.writeRecord(write(fresh, 1, { event: event(fresh) }))), { TransactWriteItems: 1 });
  });
});
