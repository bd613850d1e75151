import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RecordKey, RollbackState, WriteRecordInput } from '../../src/store/ports.js';
import type { TestBackend } from '../support/backend.js';
import { describeWithStore } from '../support/live-service.js';

const T0 = Date.parse('2025-10-16T10:00:00.000Z');
const CAT = 'd0_unauth_features';
let counter = 0;
const uid = (): string => `ver-${process.pid}-${Date.now()}-${++counter}`;
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const key = (entityValue: string, entityType = 'bright_uid'): RecordKey => ({ entityType, entityValue, category: CAT });

function write(k: RecordKey, n: number, extra: Partial<WriteRecordInput> = {}): WriteRecordInput {
  return { key: k, data: { n }, computeId: `job-${n}`, now: at(n), versionsKept: 2, ...extra };
}
const version = (n: number, extra: { eventTime?: string } = {}) => ({ data: { n }, computeId: `job-${n}`, updatedAt: at(n), ...extra });

/**
 * The versions part of the storage contract (ports.ts `getVersions`, `versionsKept`,
 * `onlyIfComputeId`, `RollbackStateStore`), run by store-contract.test.ts on every backend that
 * keeps versions.
 */
export function versionsContract(backend: TestBackend): void {
  describeWithStore('FeatureStore contract, versions', backend, (live) => {
    test('a missing record has no versions (undefined)', async () => {
      assert.equal(await live.store.getVersions(key(uid()), 5), undefined);
    });

    test('each write keeps the values it replaced, newest first, at most versionsKept, at most limit read', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1, { eventTime: at(1) }));
      assert.deepEqual((await live.store.getVersions(k, 5))?.earlier, []);
      await live.store.writeRecord(write(k, 2, { computeId: null }));
      await live.store.writeRecord(write(k, 3));
      const three = await live.store.getVersions(k, 5);
      assert.deepEqual(three?.record.data, { n: 3 });
      assert.deepEqual(three?.earlier, [{ data: { n: 2 }, computeId: null, updatedAt: at(2) }, version(1, { eventTime: at(1) })]);
      await live.store.writeRecord(write(k, 4));
      assert.deepEqual((await live.store.getVersions(k, 5))?.earlier, [version(3), { data: { n: 2 }, computeId: null, updatedAt: at(2) }], 'bound: 2');
      assert.deepEqual((await live.store.getVersions(k, 1))?.earlier, [version(3)], 'at most limit');
      assert.deepEqual((await live.store.getVersions(k, 0))?.earlier, [], 'limit 0');
      const [record] = await live.store.getRecords([k]);
      assert.deepEqual(record?.meta, { created_at: at(1), updated_at: at(4), compute_id: 'job-4' }, 'ordinary reads unchanged');
    });

    test('versionsKept 0 or undefined adds no version', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1, { versionsKept: 0 }));
      await live.store.writeRecord(write(k, 2, { versionsKept: undefined }));
      await live.store.writeRecord(write(k, 3, { versionsKept: 0 }));
      assert.deepEqual((await live.store.getVersions(k, 5))?.earlier, []);
    });

    test('a stale write keeps no version', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1, { eventTime: at(100) }));
      assert.equal((await live.store.writeRecord(write(k, 2, { eventTime: at(50) }))).outcome, 'stale');
      assert.deepEqual((await live.store.getVersions(k, 5))?.earlier, []);
    });

    test('a merge keeps the values it replaced', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1));
      await live.store.mergeRecord({ key: k, set: { m: 1 }, remove: [], computeId: 'merge-job', now: at(2), versionsKept: 2 });
      await live.store.mergeRecord({ key: k, set: { m: 2 }, remove: ['n'], computeId: 'merge-job', now: at(3), versionsKept: 2 });
      const v = await live.store.getVersions(k, 5);
      assert.deepEqual(v?.record.data, { m: 2 });
      assert.deepEqual(v?.earlier, [{ data: { n: 1, m: 1 }, computeId: 'merge-job', updatedAt: at(2) }, version(1)]);
    });

    test('a deleted record takes its versions with it', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1));
      await live.store.writeRecord(write(k, 2));
      await live.store.deleteRecord({ key: k, now: at(3) });
      assert.equal(await live.store.getVersions(k, 5), undefined);
      await live.store.writeRecord(write(k, 4));
      assert.deepEqual((await live.store.getVersions(k, 5))?.earlier, []);
    });

    test('entity types keep separate versions', async () => {
      const id = uid();
      await live.store.writeRecord(write(key(id), 1));
      await live.store.writeRecord(write(key(id), 2));
      await live.store.writeRecord(write(key(id, 'account_pid'), 3));
      assert.deepEqual((await live.store.getVersions(key(id, 'account_pid'), 5))?.earlier, []);
      assert.deepEqual((await live.store.getVersions(key(id), 5))?.earlier, [version(1)]);
    });

    test('a restore applies only while the compute id is the given one, whatever the event times', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1, { eventTime: at(1) }));
      await live.store.writeRecord(write(k, 2, { eventTime: at(2) }));
      const restored = await live.store.writeRecord({ ...write(k, 1, { eventTime: at(1) }), now: at(10), onlyIfComputeId: 'job-2' });
      assert.equal(restored.outcome, 'applied');
      const [record] = await live.store.getRecords([k]);
      assert.deepEqual(record, { entityType: 'bright_uid', entityValue: k.entityValue, category: CAT, data: { n: 1 }, meta: { created_at: at(1), updated_at: at(10), compute_id: 'job-1', event_time: at(1) } });
      const again = await live.store.writeRecord({ ...write(k, 1), now: at(11), onlyIfComputeId: 'job-2' });
      assert.deepEqual(again, { outcome: 'superseded' });
      assert.equal((await live.store.getRecords([k]))[0]?.meta.updated_at, at(10), 'nothing changed');
      assert.deepEqual(await live.store.writeRecord({ ...write(key(uid()), 1), onlyIfComputeId: 'job-0' }), { outcome: 'superseded' }, 'never creates');
    });

    test('a delete with onlyIfComputeId deletes only a record of that job', async () => {
      const k = key(uid());
      await live.store.writeRecord(write(k, 1));
      assert.equal(await live.store.deleteRecord({ key: k, now: at(2), onlyIfComputeId: 'job-9' }), undefined);
      assert.ok((await live.store.getRecords([k]))[0] !== undefined, '(await live.store.getRecords([k]))[0] !== undefined');
      assert.deepEqual((await live.store.deleteRecord({ key: k, now: at(2), onlyIfComputeId: 'job-1' }))?.data, { n: 1 });
    });

    test('rollback states: created once, leased by one owner at a time, saved only under the lease', async () => {
      const id = uid();
      const state: RollbackState = { computeId: id, status: 'running', deleteUnversioned: false, restored: 0, skipped: 0, deleted: 0, startedAt: at(0), finishedAt: null, position: { entityType: 'bright_uid' } };
      assert.deepEqual(await live.store.rollbacks.create(state), state);
      assert.deepEqual(await live.store.rollbacks.create({ ...state, deleteUnversioned: true }), state, 'the first one stays');
      assert.ok((await live.store.rollbacks.running()).includes(id), '(await live.store.rollbacks.running()).includes(id)');
      assert.equal(await live.store.rollbacks.lease(id, 'a', 1000, 2000), true);
      assert.equal(await live.store.rollbacks.lease(id, 'b', 1500, 2500), false, 'held by a');
      assert.equal(await live.store.rollbacks.save({ ...state, restored: 5 }, 'b'), false);
      assert.equal(await live.store.rollbacks.lease(id, 'b', 2000, 3000), true, 'expired');
      assert.equal(await live.store.rollbacks.save({ ...state, restored: 5 }, 'a'), false, 'a lost it');
      const done: RollbackState = { ...state, status: 'done', restored: 5, finishedAt: at(1), position: null };
      assert.equal(await live.store.rollbacks.save(done, 'b'), true);
      assert.deepEqual(await live.store.rollbacks.get(id), done);
      assert.ok(!(await live.store.rollbacks.running()).includes(id), '!(await live.store.rollbacks.running()).includes(id)');
      assert.equal(await live.store.rollbacks.get(uid()), undefined);
    });
  });
}
