import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeleteItemCommand, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { OutboxEvent } from '../../src/model.js';
import type { FeatureStore, WriteRecordInput } from '../../src/store/ports.js';
import { getOne, writeInput } from '../support/store-calls.js';
import { openStore } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';
import { eventId, outboxEvent } from '../support/fixtures.js';

/**
 * The outbox table beyond the universal contract: record items carry no outbox attributes,
 * pending events survive the record item's deletion by anyone (the old service, a TTL expiry),
 * events appended while a relay publishes survive its `complete`, relays in several processes
 * never lose an event, and a full outbox item pushes back instead of dropping events.
 */
const CAT = 'd0_unauth_features';
const T0 = Date.parse('2025-10-16T10:00:00.000Z');
let n = 0;
const uid = (): string => `obx-${process.pid}-${++n}`;
let seq = 0;

function event(entityValue: string, at: string, features: string[]): OutboxEvent {
  seq += 1;
  return outboxEvent(entityValue, { id: eventId(seq), timestamp: at, category: CAT, features });
}

/** Writes a record with an event at T0 + `ms`; returns the event. */
async function writeWithEvent(store: FeatureStore, entityValue: string, ms: number, data: WriteRecordInput['data'] = { score: ms }): Promise<OutboxEvent> {
  const now = new Date(T0 + ms).toISOString();
  const e = event(entityValue, now, Object.keys(data).sort());
  await store.writeRecord(writeInput({ entityType: 'bright_uid', entityValue, category: CAT, data, computeId: null, now, event: e }));
  return e;
}

async function drain(store: FeatureStore, owner: string): Promise<OutboxEvent[]> {
  const all: OutboxEvent[] = [];
  for (;;) {
    const batch = await store.outbox.claim(owner, 100, 30_000);
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

describe('DynamoDB outbox', () => {
  let instance: DynamoDbInstance;
  let store: FeatureStore;

  before(async () => {
    instance = await startDynamoDbInstance();
    store = await openStore(instance);
  });
  after(async () => {
    await store.close();
    await instance.teardown();
  });

  async function rawAttributes(table: string, key: Record<string, AttributeValue>): Promise<string[]> {
    const res = await instance.raw.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    return Object.keys(res.Item ?? {}).sort();
  }
  const recordKey = (id: string): Record<string, AttributeValue> => ({ bright_uid: { S: id }, category: { S: CAT } });
  const outboxKey = (id: string): Record<string, AttributeValue> => ({ entity_value: { S: id }, record: { S: `bright_uid/${CAT}` } });

  test('record items never carry pending events; the outbox item goes once its last event is completed', async () => {
    const id = uid();
    await writeWithEvent(store, id, 1);
    await writeWithEvent(store, id, 2);
    assert.deepEqual(await rawAttributes(instance.tables.bright_uid ?? '', recordKey(id)), ['bright_uid', 'category', 'features']);
    assert.deepEqual(await rawAttributes(instance.outboxTable, outboxKey(id)), ['at', 'bytes', 'count', 'entity_value', 'events', 'record', 'shard']);
    const record = await getOne(store, 'bright_uid', id, CAT);
    assert.deepEqual(Object.keys(record ?? {}).sort(), ['category', 'data', 'entityType', 'entityValue', 'meta']);
    assert.deepEqual(record?.data, { score: 2 });
    const claimed = await drain(store, 'relay');
    assert.equal(claimed.length, 2);
    await store.outbox.complete(claimed.map((c) => c.id));
    assert.deepEqual(await rawAttributes(instance.outboxTable, outboxKey(id)), []);
    assert.deepEqual(await store.outbox.stats(), { pending: 0, oldestCreatedAt: null });
  });

  test('pending events survive the record item being deleted outside this service (old service, TTL expiry)', async () => {
    const id = uid();
    const written = [await writeWithEvent(store, id, 5), await writeWithEvent(store, id, 6)];
    await instance.raw.send(new DeleteItemCommand({ TableName: instance.tables.bright_uid, Key: recordKey(id) }));
    assert.equal(await getOne(store, 'bright_uid', id, CAT), undefined);
    const claimed = await drain(store, 'relay');
    assert.deepEqual(claimed, written);
    await store.outbox.complete(claimed.map((c) => c.id));
  });

  test('events appended while a relay publishes stay pending after it completes', async () => {
    const id = uid();
    const first = await writeWithEvent(store, id, 10);
    const claimed = await store.outbox.claim('relay', 100, 30_000);
    assert.deepEqual(claimed.map((c) => c.id), [first.id]);
    const later = [await writeWithEvent(store, id, 11), await writeWithEvent(store, id, 12)];
    await store.outbox.complete([first.id]);
    assert.deepEqual(await store.outbox.stats(), { pending: 2, oldestCreatedAt: new Date(T0 + 11).toISOString() });
    const rest = await drain(store, 'relay');
    assert.deepEqual(rest, later);
    await store.outbox.complete(rest.map((c) => c.id));
  });

  test('the limit is respected; records are handed out oldest first, each record in write order', async () => {
    const written: OutboxEvent[] = [];
    const ids = [uid(), uid(), uid(), uid(), uid()];
    for (let round = 0; round < 3; round++) {
      for (const [i, id] of ids.entries()) written.push(await writeWithEvent(store, id, 100 + i * 10 + round));
    }
    const first = await store.outbox.claim('relay', 4, 30_000);
    assert.equal(first.length, 4);
    const byRecord = (id: string) => written.filter((e) => e.event.entity_id === id).map((e) => e.id);
    assert.deepEqual(first.map((e) => e.id), [...byRecord(ids[0] ?? ''), byRecord(ids[1] ?? '')[0]]);
    const delivered = [...first];
    await store.outbox.complete(first.map((e) => e.id));
    delivered.push(...(await drain(store, 'relay')));
    assert.deepEqual(delivered.map((e) => e.id).sort(), written.map((e) => e.id).sort(), 'every event exactly once');
    for (const id of ids) {
      assert.deepEqual(delivered.filter((e) => e.event.entity_id === id).map((e) => e.id), byRecord(id), 'per-record order');
    }
    await store.outbox.complete(delivered.map((e) => e.id));
    assert.equal((await store.outbox.stats()).pending, 0);
  });

  test('relays in two processes: no event lost, none handed to both while leased', async () => {
    const other = await openStore(instance);
    try {
      const written = new Set<string>();
      const ids = Array.from({ length: 12 }, () => uid());
      await Promise.all(ids.map(async (id, i) => {
        for (let k = 0; k < 3; k++) written.add((await writeWithEvent(store, id, 1000 + i * 3 + k)).id);
      }));
      assert.equal((await store.outbox.stats()).pending, written.size, 'every written event is pending');
      const relay = async (s: FeatureStore, owner: string): Promise<string[]> => {
        const got: string[] = [];
        for (;;) {
          const batch = await s.outbox.claim(owner, 5, 30_000);
          if (batch.length === 0) return got;
          got.push(...batch.map((e) => e.id));
          await s.outbox.complete(batch.map((e) => e.id));
        }
      };
      const [a, b, c] = await Promise.all([relay(store, 'a'), relay(other, 'b'), relay(store, 'c')]);
      const all = [...(a ?? []), ...(b ?? []), ...(c ?? [])];
      const left = await drain(store, 'check');
      assert.deepEqual(left.map((e) => e.id), [], `stats: ${JSON.stringify(await store.outbox.stats())}`);
      assert.equal(new Set(all).size, all.length, 'no duplicates while leases hold');
      assert.deepEqual(new Set(all), written);
      assert.equal((await store.outbox.stats()).pending, 0);
    } finally {
      await other.close();
    }
  });

  test('after a lease expires, two relays may both publish; both completing loses nothing and fails nothing', async () => {
    const id = uid();
    const e1 = await writeWithEvent(store, id, 2000);
    const other = await openStore(instance);
    try {
      const a = await store.outbox.claim('a', 100, 1);
      await new Promise((r) => setTimeout(r, 10));
      const b = await other.outbox.claim('b', 100, 30_000);
      assert.deepEqual(a.map((e) => e.id), [e1.id]);
      assert.deepEqual(b.map((e) => e.id), [e1.id]);
      const e2 = await writeWithEvent(store, id, 2001);
      await store.outbox.complete([e1.id]);
      await other.outbox.complete([e1.id]);
      const rest = await drain(store, 'a');
      assert.deepEqual(rest.map((e) => e.id), [e2.id]);
      await store.outbox.complete([e2.id]);
    } finally {
      await other.close();
    }
  });
});
