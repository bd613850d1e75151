import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { createRollbacks } from '../../src/service/rollback.js';
import { delegate } from '../../src/store/delegate.js';
import { BACKENDS } from '../support/backends.js';
import { describeOnEveryBackend, type LiveService } from '../support/live-service.js';

const CAT = 'd0_unauth_features';
let counter = 0;
const uid = (): string => `rb-${process.pid}-${Date.now()}-${++counter}`;
const enc = encodeURIComponent;

async function writeAt(live: LiveService, iso: string, id: string, features: Record<string, unknown>, computeId: string): Promise<void> {
  live.time.set(iso);
  const res = await live.http.post('/api/v1/items', {
    meta: { source: 'prediction_service', compute_id: computeId },
    data: { entity_type: 'bright_uid', entity_value: id, category: CAT, features },
  });
  assert.equal(res.status, 200, res.text);
}

/** Waits for the service's rollbacks to finish (they run in the background). */
async function settled(live: LiveService, computeId: string): Promise<Record<string, unknown>> {
  await live.runtime.rollbacks.idle();
  const res = await live.http.get(`/api/v1/compute-jobs/${enc(computeId)}/rollback`);
  assert.equal(res.status, 200, res.text);
  return res.json as Record<string, unknown>;
}

const read = async (live: LiveService, id: string) => (await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}`)).json as { features: { data: unknown; meta: Record<string, unknown> } } | { code: string };

/** Rollback of a compute job on every backend that keeps versions, in batches of 2. */
describeOnEveryBackend(
  'rollback',
  { VERSIONS_KEPT: '3', ROLLBACK_BATCH_SIZE: '2' },
  (live) => {
    test('restores the version before the job for each of its records, across several batches; records without one are skipped', async () => {
      const good = uid();
      const bad = uid();
      const ids = [0, 1, 2, 3, 4].map(() => uid());
      for (const id of ids) await writeAt(live, '2025-10-16T10:00:00.000Z', id, { score: 0.8 }, good);
      const fresh = uid();
      for (const id of [...ids, fresh]) await writeAt(live, '2025-10-16T11:00:00.000Z', id, { score: -1 }, bad);
      // Rewritten twice by the bad job: the version before is still the good one.
      await writeAt(live, '2025-10-16T11:30:00.000Z', ids[0] as string, { score: -2 }, bad);
      live.time.set('2025-10-16T12:00:00.000Z');
      const started = await live.http.post(`/api/v1/compute-jobs/${enc(bad)}/rollback`, undefined);
      assert.equal(started.status, 202, started.text);
      assert.equal(started.text, `{"compute_id":"${bad}","status":"running"}`);
      const done = await settled(live, bad);
      assert.deepEqual(done, {
        compute_id: bad,
        status: 'done',
        restored: 5,
        skipped: 1,
        deleted: 0,
        started_at: '2025-10-16T12:00:00.000Z',
        finished_at: '2025-10-16T12:00:00.000Z',
      });
      for (const id of ids) {
        assert.deepEqual(await read(live, id), {
          bright_uid: id,
          category: CAT,
          features: { data: { score: 0.8 }, meta: { created_at: '2025-10-16T10:00:00.000Z', updated_at: '2025-10-16T12:00:00.000Z', compute_id: good } },
        });
      }
      assert.deepEqual(await read(live, fresh), { bright_uid: fresh, category: CAT, features: { data: { score: -1 }, meta: { created_at: '2025-10-16T11:00:00.000Z', updated_at: '2025-10-16T11:00:00.000Z', compute_id: bad } } });
      // The restore is a version like any write: the bad values stay visible.
      const versions = await live.http.get(`/api/v1/get/item/${enc(ids[0] as string)}/${CAT}/versions`);
      assert.deepEqual(
        (versions.json as { versions: { compute_id: string }[] }).versions.map((v) => v.compute_id),
        [good, bad, bad, good],
      );
      // A second call does nothing new.
      live.time.set('2025-10-16T13:00:00.000Z');
      const again = await live.http.post(`/api/v1/compute-jobs/${enc(bad)}/rollback`, undefined);
      assert.equal(again.status, 202);
      assert.equal(again.text, `{"compute_id":"${bad}","status":"done"}`);
      assert.deepEqual(await settled(live, bad), done);
    });

    test('delete_unversioned=true deletes the records the job created', async () => {
      const bad = uid();
      const created = uid();
      const kept = uid();
      await writeAt(live, '2025-10-16T10:00:00.000Z', kept, { s: 1 }, 'earlier');
      await writeAt(live, '2025-10-16T11:00:00.000Z', kept, { s: 2 }, bad);
      await writeAt(live, '2025-10-16T11:00:00.000Z', created, { s: 3 }, bad);
      const started = await live.http.post(`/api/v1/compute-jobs/${enc(bad)}/rollback?delete_unversioned=true`, undefined);
      assert.equal(started.status, 202);
      const done = await settled(live, bad);
      assert.deepEqual([done.restored, done.skipped, done.deleted], [1, 0, 1]);
      assert.equal(((await read(live, created)) as { code: string }).code, 'NOT_FOUND');
      const body = await live.http.post(`/api/v1/compute-jobs/${enc(uid())}/rollback`, { delete_unversioned: true });
      assert.equal(body.status, 404, 'the body form is accepted (unknown job)');
    });

    test('an unknown job is a 404 for both routes', async () => {
      const id = uid();
      for (const res of [await live.http.post(`/api/v1/compute-jobs/${id}/rollback`, undefined), await live.http.get(`/api/v1/compute-jobs/${id}/rollback`)]) {
        assert.equal(res.status, 404);
        assert.equal(res.text, JSON.stringify({ detail: `Compute job not found: ${id}`, code: 'COMPUTE_JOB_NOT_FOUND' }));
      }
    });

    test('a write racing the restore wins: the record keeps the new write and counts as skipped', async () => {
      const bad = uid();
      const raced = uid();
      const other = uid();
      for (const id of [raced, other]) {
        await writeAt(live, '2025-10-16T10:00:00.000Z', id, { v: 'good' }, 'good-job');
        await writeAt(live, '2025-10-16T11:00:00.000Z', id, { v: 'bad' }, bad);
      }
      const store = live.runtime.store;
      // The rollback reads the record's versions, then a new job writes the record before the
      // restore's conditional write.
      const racing = {
        ...delegate(store),
        getVersions: async (key: Parameters<typeof store.getVersions>[0], limit: number) => {
          const read = await store.getVersions(key, limit);
          if (key.entityValue === raced) await writeAt(live, '2025-10-16T12:00:00.000Z', raced, { v: 'newer' }, 'newer-job');
          return read;
        },
      };
      const rollbacks = createRollbacks({
        store: racing,
        entityTypes: ['bright_uid', 'account_pid'],
        versionsLimit: 3,
        batch: 1,
        clock: live.time.clock,
        logger: createLogger('silent'),
        restoreSettings: live.runtime.service.restoreSettings,
        deletedEvent: undefined,
      });
      await rollbacks.start(bad, false);
      await rollbacks.idle();
      const state = await rollbacks.status(bad);
      assert.deepEqual([state.status, state.restored, state.skipped], ['done', 1, 1]);
      assert.deepEqual(((await read(live, raced)) as { features: { data: unknown; meta: Record<string, unknown> } }).features.data, { v: 'newer' });
      assert.equal(((await read(live, raced)) as { features: { meta: Record<string, unknown> } }).features.meta.compute_id, 'newer-job');
      assert.deepEqual(((await read(live, other)) as { features: { data: unknown } }).features.data, { v: 'good' });
      await rollbacks.stop();
    });
  },
  BACKENDS.filter((b) => b.versions),
);
