import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FeatureMap, FeatureRecord, OutboxEvent } from '../../src/model.js';
import type { FeatureStore, MergeRecordInput, RecordKey } from '../../src/store/ports.js';
import { openStore, type BackendInstance, type TestBackend } from '../support/backend.js';
import { eventId, outboxEvent } from '../support/fixtures.js';

const T0 = '2025-10-16T10:00:00.000Z';
const T1 = '2025-10-16T10:05:00.000Z';
const CAT = 'd0_unauth_features';

let counter = 0;
function key(): RecordKey {
  counter += 1;
  return { entityType: 'bright_uid', entityValue: `merge-${process.pid}-${Date.now()}-${counter}`, category: CAT };
}

function merge(k: RecordKey, set: FeatureMap, remove: string[] = [], extra: Partial<MergeRecordInput> = {}): MergeRecordInput {
  return { key: k, set, remove, computeId: 'job-m', now: T1, ...extra };
}

/** The `mergeRecord` contract of src/store/ports.ts, on every backend that records events. */
export function mergeContract(backend: TestBackend): void {
  describe(`FeatureStore merge contract: ${backend.name}`, () => {
    let instance: BackendInstance;
    let store: FeatureStore;

    before(async () => {
      instance = await backend.setup();
      store = await openStore(instance);
    });
    after(async () => {
      await store?.close();
      await instance?.teardown();
    });

    async function get(k: RecordKey): Promise<FeatureRecord | undefined> {
      return (await store.getRecords([k]))[0];
    }

    async function write(k: RecordKey, data: FeatureMap, eventTime?: string): Promise<void> {
      const result = await store.writeRecord({ key: k, data, computeId: 'job-w', now: T0, eventTime });
      assert.equal(result.outcome, 'applied');
    }

    test('a merge into a missing record creates it with the set features', async () => {
      const k = key();
      assert.deepEqual(await store.mergeRecord(merge(k, { a: 1, b: { x: [1, 0.5] } }, ['gone'], { now: T0 })), { featureCount: 2, created: true });
      assert.deepEqual(await get(k), { ...k, data: { a: 1, b: { x: [1, 0.5] } }, meta: { created_at: T0, updated_at: T0, compute_id: 'job-m' } });
    });

    test('a merge sets and removes top-level features, keeps the others and created_at, moves updated_at, clears the event time', async () => {
      const k = key();
      await write(k, { kept: 1, replaced: { deep: 1, other: 2 }, removed: 'x' }, T0);
      const result = await store.mergeRecord(merge(k, { replaced: { deep: 2 }, added: 0.35 }, ['removed', 'never_there'], { computeId: null }));
      assert.deepEqual(result, { featureCount: 3, created: false });
      assert.deepEqual(await get(k), {
        ...k,
        data: { kept: 1, replaced: { deep: 2 }, added: 0.35 },
        meta: { created_at: T0, updated_at: T1, compute_id: null },
      });
    });

    test('removing every feature leaves a record without features', async () => {
      const k = key();
      await write(k, { a: 1 });
      assert.deepEqual(await store.mergeRecord(merge(k, {}, ['a'])), { featureCount: 0, created: false });
      assert.deepEqual((await get(k))?.data, {});
    });

    test('feature names like __proto__ and constructor merge like any other, into and out of records that hold them', async () => {
      const k = key();
      await write(k, JSON.parse('{"__proto__":{"x":1},"a":1}') as FeatureMap);
      await store.mergeRecord(merge(k, { b: 2 }));
      assert.equal(JSON.stringify((await get(k))?.data), '{"__proto__":{"x":1},"a":1,"b":2}');
      await store.mergeRecord(merge(k, JSON.parse('{"constructor":3}') as FeatureMap, ['__proto__']));
      assert.equal(JSON.stringify((await get(k))?.data), '{"a":1,"b":2,"constructor":3}');
      const plain = key();
      await write(plain, { a: 1 });
      await store.mergeRecord(merge(plain, JSON.parse('{"__proto__":[1]}') as FeatureMap));
      assert.equal(JSON.stringify((await get(plain))?.data), '{"a":1,"__proto__":[1]}');
    });

    test('a merge of 400 features at once (past per-feature expression limits) applies whole', async () => {
      const k = key();
      await write(k, { kept: true });
      const set = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`feature_with_a_long_name_${i}`, i]));
      assert.deepEqual(await store.mergeRecord(merge(k, set)), { featureCount: 401, created: false });
      assert.deepEqual((await get(k))?.data, { kept: true, ...set });
    });

    test('merge racing merge: concurrent merges of different features all survive, on a new and on an existing record', async () => {
      for (const existing of [false, true]) {
        const k = key();
        if (existing) await write(k, { base: 0 });
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.mergeRecord(merge(k, { [`f${i}`]: i }))));
        const expected: FeatureMap = existing ? { base: 0 } : {};
        for (let i = 0; i < 12; i++) expected[`f${i}`] = i;
        const record = await get(k);
        assert.deepEqual(record?.data, expected, existing ? 'existing record' : 'new record');
        assert.equal(results.filter((r) => r.created).length, existing ? 0 : 1, 'exactly one merge created the record');
        assert.equal(record?.meta.created_at, existing ? T0 : T1);
      }
    });

    test('the event is recorded atomically with the merge, after the events of earlier writes', async () => {
      const k = key();
      const written = outboxEvent(k.entityValue, { id: eventId(300) });
      await store.writeRecord({ key: k, data: { a: 1 }, computeId: null, now: T0, event: written });
      const merged: OutboxEvent = outboxEvent(k.entityValue, { id: eventId(301), timestamp: T1, features: ['b', 'a'] });
      await store.mergeRecord(merge(k, { b: 2 }, ['a'], { event: merged }));
      const claimed: OutboxEvent[] = [];
      for (;;) {
        const batch = await store.outbox.claim('merge-contract', 100, 30_000);
        if (batch.length === 0) break;
        claimed.push(...batch);
      }
      await store.outbox.complete(claimed.map((e) => e.id));
      assert.deepEqual(claimed.filter((e) => e.key === written.key), [written, merged]);
    });
  });
}
