import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { FeatureStoreApiError, FeatureStoreNotFoundError } from '../../packages/client/src/index.js';
import { useLiveClient } from './live-client.js';

/**
 * The typed client (packages/client) against a real service on SQLite: every method, the
 * record exactly as the API returns it, paging of by-compute-id, typed errors.
 */
const D0 = 'd0_unauth_features';
const NCR = 'ncr_unauth_features';

describe('client: every method against a real service', () => {
  const live = useLiveClient();

  test('write, then read resolves with the record exactly as the API returns it', async () => {
    const id = `user-${randomUUID()}`;
    const written = await live.fs.write({ entityType: 'bright_uid', entityValue: id, category: D0, features: { score: 0.1, tags: ['a'] }, computeId: 'job-1' });
    assert.deepEqual(written, { message: 'Category written successfully (full replace)', entity_value: id, entity_type: 'bright_uid', category: D0, feature_count: 2 });
    const record = await live.fs.read({ entityType: 'bright_uid', entityValue: id, category: D0 });
    const raw = await fetch(`${live.runtime.url}/api/v1/get/item/${id}/${D0}?entity_type=bright_uid`);
    assert.equal(JSON.stringify(record), await raw.text());
    assert.equal((record as unknown as Record<string, unknown>).bright_uid, id);
    assert.deepEqual(record.features.data, { score: 0.1, tags: ['a'] });
    assert.equal(record.features.meta.compute_id, 'job-1');
  });

  test('merge keeps the other features and removes those set to null', async () => {
    const id = `user-${randomUUID()}`;
    await live.fs.write({ entityType: 'bright_uid', entityValue: id, category: D0, features: { a: 1, b: 2 } });
    const merged = await live.fs.merge({ entityType: 'bright_uid', entityValue: id, category: D0, features: { b: null, c: 3 } });
    assert.equal(merged.feature_count, 2);
    const record = await live.fs.read({ entityType: 'bright_uid', entityValue: id, category: D0 });
    assert.deepEqual(record.features.data, { a: 1, c: 3 });
  });

  test('readFeatures and readBatch', async () => {
    const a = `user-${randomUUID()}`;
    const b = `user-${randomUUID()}`;
    await live.fs.write({ entityType: 'bright_uid', entityValue: a, category: D0, features: { x: 1, y: 2 } });
    await live.fs.write({ entityType: 'bright_uid', entityValue: a, category: NCR, features: { z: 3 } });
    const one = await live.fs.readFeatures({ entityType: 'bright_uid', entityValue: a, featureList: [`${D0}:x`, `${NCR}:*`] });
    assert.deepEqual(one.items[D0]?.features.data, { x: 1 });
    assert.deepEqual(one.items[NCR]?.features.data, { z: 3 });
    assert.deepEqual(one.unavailable_feature_categories, []);
    const batch = await live.fs.readBatch({ entityType: 'bright_uid', entityValues: [a, b], featureList: [`${D0}:*`] });
    assert.deepEqual(batch.results.map((r) => [r.entity_value, Object.keys(r.items), r.unavailable_feature_categories]), [
      [a, [D0], []],
      [b, [], [D0]],
    ]);
  });

  test('history lists the compute ids newest first', async () => {
    const id = `user-${randomUUID()}`;
    for (const job of ['job-a', 'job-b']) await live.fs.write({ entityType: 'bright_uid', entityValue: id, category: D0, features: { v: 1 }, computeId: job });
    const history = await live.fs.history({ entityType: 'bright_uid', entityValue: id, category: D0 });
    assert.deepEqual(history.compute_history.map((h) => h.compute_id), ['job-b', 'job-a']);
  });

  test('byComputeId iterates over every page', async () => {
    const job = `job-${randomUUID()}`;
    const ids = Array.from({ length: 5 }, (_, i) => `user-${i}-${job}`);
    for (const id of ids) await live.fs.write({ entityType: 'bright_uid', entityValue: id, category: D0, features: { v: 1 }, computeId: job });
    const seen: string[] = [];
    for await (const r of live.fs.byComputeId(job, { pageSize: 2 })) seen.push(r.entity_value);
    assert.deepEqual(seen.sort(), [...ids].sort());
    const none: unknown[] = [];
    for await (const r of live.fs.byComputeId(`job-${randomUUID()}`)) none.push(r);
    assert.deepEqual(none, []);
  });

  test('delete one category, then erase the entity', async () => {
    const id = `user-${randomUUID()}`;
    await live.fs.write({ entityType: 'bright_uid', entityValue: id, category: D0, features: { v: 1 } });
    await live.fs.write({ entityType: 'bright_uid', entityValue: id, category: NCR, features: { v: 1 } });
    const one = await live.fs.delete({ entityType: 'bright_uid', entityValue: id, category: D0 });
    assert.deepEqual(one, { message: 'Category deleted', entity_type: 'bright_uid', entity_value: id, category: D0 });
    const all = await live.fs.delete({ entityType: 'bright_uid', entityValue: id });
    assert.deepEqual(all.deleted_categories, [NCR]);
  });

  test('a missing record is a FeatureStoreNotFoundError with status, code and detail', async () => {
    const id = `user-${randomUUID()}`;
    await assert.rejects(live.fs.read({ entityType: 'bright_uid', entityValue: id, category: D0 }), (err: unknown) => {
      assert.ok(err instanceof FeatureStoreNotFoundError, 'err instanceof FeatureStoreNotFoundError');
      assert.equal(err.status, 404);
      assert.equal(err.code, 'NOT_FOUND');
      assert.ok(typeof err.detail === 'string', `typeof err.detail === 'string'`);
      assert.match(err.detail, new RegExp(id));
      return true;
    });
  });

  test('computeJob of an unknown job is a FeatureStoreNotFoundError', async () => {
    await assert.rejects(live.fs.computeJob(`job-${randomUUID()}`), (err: unknown) => {
      assert.ok(err instanceof FeatureStoreNotFoundError, 'err instanceof FeatureStoreNotFoundError');
      assert.equal(err.status, 404);
      return true;
    });
  });

  test('a 422 carries the list of problems; a 400 its code', async () => {
    await assert.rejects(live.fs.write({ entityType: 'bright_uid', entityValue: 'x', category: D0, features: {} }), (err: unknown) => {
      assert.ok(err instanceof FeatureStoreApiError && !(err instanceof FeatureStoreNotFoundError), 'err instanceof FeatureStoreApiError && !(err instanceof FeatureStoreNotFoundError)');
      assert.equal(err.status, 422);
      assert.equal(err.code, 'VALIDATION_FAILED');
      assert.ok(Array.isArray(err.detail), 'Array.isArray(err.detail)');
      assert.deepEqual(err.detail[0]?.loc, ['body', 'data', 'features']);
      return true;
    });
    await assert.rejects(live.fs.read({ entityType: 'bright_uid', entityValue: 'x', category: 'nope' }), { status: 400, code: 'CATEGORY_NOT_ALLOWED' });
  });

  test('health', async () => {
    const health = await live.fs.health();
    assert.equal(health.status, 'healthy');
    assert.deepEqual(health.store, { type: 'sqlite', ok: true });
  });
});
