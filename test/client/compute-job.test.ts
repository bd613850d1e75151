import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createClient, FeatureStoreNotFoundError, type ComputeJobStats, type FeatureStoreClient } from '../../packages/client/src/index.js';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { eventually } from '../support/kafka-service.js';
import { sqliteBackend } from '../support/sqlite-backend.js';
import { startService } from '../support/service.js';

/**
 * `computeJob`: the statistics of `GET /api/v1/compute-jobs/{compute_id}` (lineage, job
 * analytics). The statistics may be derived asynchronously, so the test waits for them.
 */
describe('client: computeJob against a real service', () => {
  let instance: BackendInstance;
  let runtime: Runtime;
  let fs: FeatureStoreClient;

  before(async () => {
    instance = await sqliteBackend.setup();
    runtime = await startService(instance);
    fs = createClient({ baseUrl: runtime.url, source: 'prediction_service' });
  });
  after(async () => {
    await runtime.close();
    await instance.teardown();
  });

  test("a job's writes, current records, categories and entity types", async () => {
    const job = `job-${randomUUID()}`;
    const id = `user-${randomUUID()}`;
    await fs.write({ entityType: 'bright_uid', entityValue: id, category: 'd0_unauth_features', features: { v: 1 }, computeId: job });
    await fs.write({ entityType: 'bright_uid', entityValue: id, category: 'd0_unauth_features', features: { v: 2 }, computeId: job });
    await fs.write({ entityType: 'account_pid', entityValue: id, category: 'ncr_unauth_features', features: { v: 1 }, computeId: job });
    let stats: ComputeJobStats | undefined;
    await eventually(
      async () => {
        try {
          stats = await fs.computeJob(job);
          return stats.records_written === 3;
        } catch (err) {
          if (err instanceof FeatureStoreNotFoundError) return false;
          throw err;
        }
      },
      10_000,
      'the job statistics',
    );
    assert.ok(stats !== undefined);
    assert.equal(stats.compute_id, job);
    assert.equal(stats.records_written, 3);
    assert.equal(stats.records_current, 2);
    assert.deepEqual(stats.categories, { d0_unauth_features: 2, ncr_unauth_features: 1 });
    assert.deepEqual(stats.entity_types, { bright_uid: 2, account_pid: 1 });
    assert.ok(stats.first_write_at <= stats.last_write_at);
  });

  test('an unknown job is a FeatureStoreNotFoundError with code NOT_FOUND', async () => {
    const job = `job-${randomUUID()}`;
    await assert.rejects(fs.computeJob(job), (err: unknown) => {
      assert.ok(err instanceof FeatureStoreNotFoundError);
      assert.equal(err.code, 'NOT_FOUND');
      assert.equal(err.detail, `Compute job not found: ${job}`);
      return true;
    });
  });
});
