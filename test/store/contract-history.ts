import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ComputeHistoryEntry } from '../../src/model.js';
import type { RecordKey, WriteRecordInput } from '../../src/store/ports.js';
import type { TestBackend } from '../support/backend.js';
import { describeWithStore } from '../support/live-service.js';
import { legacyRecord, outboxEvent } from '../support/fixtures.js';

const T0 = Date.parse('2025-10-16T10:00:00.000Z');
const CAT = 'd0_unauth_features';
let counter = 0;
const uid = (): string => `hist-${process.pid}-${Date.now()}-${++counter}`;
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const key = (entityValue: string, entityType = 'bright_uid'): RecordKey => ({ entityType, entityValue, category: CAT });

function write(k: RecordKey, n: number, extra: Partial<WriteRecordInput> = {}): WriteRecordInput {
  return { key: k, data: { n }, computeId: `job-${n}`, now: at(n), historySize: 3, ...extra };
}
const entry = (n: number, computeId: string | null = `job-${n}`): ComputeHistoryEntry => ({ compute_id: computeId, timestamp: at(n) });

/**
 * The compute-history part of the storage contract (ports.ts `getComputeHistory` and
 * `RecordChangeInput.historySize`), run by store-contract.test.ts on every event backend.
 */
export function computeHistoryContract(backend: TestBackend): void {
  describeWithStore('FeatureStore contract, compute history', backend, (live) => {
    test('a missing record has no history (undefined)', async () => {
      assert.equal(await live.store.getComputeHistory(key(uid()), 10), undefined);
    });

    test('writes are listed newest first with their updated_at, null compute ids included, at most historySize', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1));
      assert.deepEqual(await live.store.getComputeHistory(k, 10), [entry(1)]);
      await live.store.writeRecord(write(k, 2, { computeId: null }));
      await live.store.writeRecord(write(k, 3));
      assert.deepEqual(await live.store.getComputeHistory(k, 10), [entry(3), entry(2, null), entry(1)]);
      await live.store.writeRecord(write(k, 4));
      await live.store.writeRecord(write(k, 5));
      assert.deepEqual(await live.store.getComputeHistory(k, 10), [entry(5), entry(4), entry(3)]);
      assert.deepEqual(await live.store.getComputeHistory(k, 2), [entry(5), entry(4)], 'at most limit');
      assert.deepEqual(await live.store.getComputeHistory(k, 0), [], 'limit 0: only whether the record exists');
      // Ordinary reads carry no history.
      const [record] = await live.store.getRecords([k]);
      assert.deepEqual(record?.meta, { created_at: at(1), updated_at: at(5), compute_id: 'job-5' });
    });

    test('entity types keep separate histories', async () => {
      const id = uid();
      await live.store.writeRecord(write(key(id), 1));
      await live.store.writeRecord(write(key(id, 'account_pid'), 2));
      assert.deepEqual(await live.store.getComputeHistory(key(id), 10), [entry(1)]);
      assert.deepEqual(await live.store.getComputeHistory(key(id, 'account_pid'), 10), [entry(2)]);
    });

    test('a write without historySize (history off) leaves the stored history as it is', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1));
      await live.store.writeRecord(write(k, 2, { historySize: 0 }));
      await live.store.writeRecord(write(k, 3, { historySize: undefined }));
      assert.deepEqual(await live.store.getComputeHistory(k, 10), [entry(1)]);
      const [record] = await live.store.getRecords([k]);
      assert.deepEqual(record?.data, { n: 3 });
      const fresh = key(uid());
      await live.store.writeRecord(write(fresh, 1, { historySize: 0 }));
      assert.deepEqual(await live.store.getComputeHistory(fresh, 10), []);
    });

    test('a smaller historySize keeps at most that many from then on', async () => {
      const k = key(uid());
      for (let n = 1; n <= 3; n++) await live.store.writeRecord(write(k, n));
      await live.store.writeRecord(write(k, 4, { historySize: 2 }));
      assert.deepEqual(await live.store.getComputeHistory(k, 2), [entry(4), entry(3)]);
    });

    test('a stale write adds no entry', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1, { eventTime: at(100) }));
      const result = await live.store.writeRecord(write(k, 2, { eventTime: at(50) }));
      assert.equal(result.outcome, 'stale');
      assert.deepEqual(await live.store.getComputeHistory(k, 10), [entry(1)]);
    });

    test('writes that record an event keep history too', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1, { event: outboxEvent(k.entityValue) }));
      await live.store.writeRecord(write(k, 2, { event: outboxEvent(k.entityValue) }));
      assert.deepEqual(await live.store.getComputeHistory(k, 10), [entry(2), entry(1)]);
      const events = await live.store.outbox.claim('history', 100, 30_000);
      await live.store.outbox.complete(events.map((e) => e.id));
    });

    test("a record in the old service's format has an empty history until its next write", async () => {
      const id = uid();
      await live.instance.insertLegacy(legacyRecord(id, CAT));
      assert.deepEqual(await live.store.getComputeHistory(key(id), 10), []);
      await live.store.writeRecord(write(key(id), 7));
      assert.deepEqual(await live.store.getComputeHistory(key(id), 10), [entry(7)]);
    });

    test('a deleted record loses its history; a new record starts a new one', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1));
      await live.store.writeRecord(write(k, 2));
      await live.store.deleteRecord({ key: k, now: at(3) });
      assert.equal(await live.store.getComputeHistory(k, 10), undefined);
      await live.store.writeRecord(write(k, 4));
      assert.deepEqual(await live.store.getComputeHistory(k, 10), [entry(4)]);
    });

    test('concurrent writes lose no entry: each applied write is in the history exactly once', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 0, { historySize: 10 }));
      const results = await Promise.all(Array.from({ length: 9 }, (_, i) => live.store.writeRecord(write(k, i + 1, { historySize: 10 }))));
      assert.ok(results.every((r) => r.outcome === 'applied'), `results.every((r) => r.outcome === 'applied')`);
      const history = (await live.store.getComputeHistory(k, 10)) ?? [];
      assert.equal(history.length, 10);
      assert.deepEqual(history.map((e) => e.compute_id).sort(), Array.from({ length: 10 }, (_, n) => `job-${n}`).sort());
      assert.equal(history[history.length - 1]?.compute_id, 'job-0', 'the first write is the oldest entry');
      const [record] = await live.store.getRecords([k]);
      assert.equal(history[0]?.compute_id, record?.meta.compute_id, 'the newest entry is the current compute_id');
      assert.equal(history[0]?.timestamp, record?.meta.updated_at);
    });
  });
}
