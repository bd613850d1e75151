import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { FeatureStoreNotFoundError, type ComputeJobStats } from '../../packages/client/src/index.js';
import { useLiveClient } from './live-client.js';
import { eventually } from '../support/kafka-service.js';

/**
 * `computeJob`: the statistics of `GET /api/v1/compute-jobs/{compute_id}` (lineage, job
 * analytics). The statistics may be derived asynchronously, so the test waits for them.
 */
describe('client: computeJob against a real service', () => {
  const live = useLiveClient();

  test("a job's writes, current records, categories and entity types", async () => {
    const job = `job-${randomUUID()}`;
    const id = `user-${randomUUID()}`;
    await live.fs.write({ entityType: 'bright_uid', entityValue: id, category: 'd0_unauth_features', features: { v: 1 }, computeId: job });
    await live.fs.write({ entityType: 'bright_uid', entityValue: id, category: 'd0_unauth_features', features: { v: 2 }, computeId: job });
    await live.fs.write({ entityType: 'account_pid', entityValue: id, category: 'ncr_unauth_features', features: { v: 1 }, computeId: job });
    let stats: ComputeJobStats | undefined;
    await eventually(
      async () => {
        try {
          stats = await live.fs.computeJob(job);
          return stats.records_written === 3;
        } catch (err) {
          if (err instanceof FeatureStoreNotFoundError) return false;
          throw err;
        }
      },
      10_000,
      'the job statistics',
    );
    assert.ok(stats !== undefined, 'stats !== undefined');
    assert.equal(stats.compute_id, job);
    assert.equal(stats.records_written, 3);
    assert.equal(stats.records_current, 2);
    assert.deepEqual(stats.categories, { d0_unauth_features: 2, ncr_unauth_features: 1 });
    assert.deepEqual(stats.entity_types, { bright_uid: 2, account_pid: 1 });
    assert.ok(stats.first_write_at <= stats.last_write_at, 'stats.first_write_at <= stats.last_write_at');
  });

  test('an unknown job is a FeatureStoreNotFoundError with code COMPUTE_JOB_NOT_FOUND', async () => {
    const job = `job-${randomUUID()}`;
    await assert.rejects(live.fs.computeJob(job), (err: unknown) => {
      assert.ok(err instanceof FeatureStoreNotFoundError, 'err instanceof FeatureStoreNotFoundError');
      assert.equal(err.code, 'COMPUTE_JOB_NOT_FOUND');
      assert.equal(err.detail, `Compute job not found: ${job}`);
      return true;
    });
  });
});
