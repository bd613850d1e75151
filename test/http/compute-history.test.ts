import assert from 'node:assert/strict';
import { test } from 'node:test';
import { legacyRecord } from '../support/fixtures.js';
import { describeOnEveryBackend } from '../support/live-service.js';
import { client, startService } from '../support/service.js';

const CAT = 'd0_unauth_features';
let counter = 0;
const uid = (): string => `hist-${process.pid}-${Date.now()}-${++counter}`;
const enc = encodeURIComponent;

function body(entityValue: string, meta: Record<string, unknown>, entityType = 'bright_uid') {
  return { meta: { source: 'prediction_service', ...meta }, data: { entity_type: entityType, entity_value: entityValue, category: CAT, features: { score: 1 } } };
}

/** `GET /api/v1/get/item/{entity_value}/{category}/history` on every backend, with COMPUTE_HISTORY_SIZE=3. */
describeOnEveryBackend('compute history', { COMPUTE_HISTORY_SIZE: '3' }, (live) => {
  async function writeAt(iso: string, id: string, meta: Record<string, unknown>, entityType?: string): Promise<number> {
    live.time.set(iso);
    return (await live.http.post('/api/v1/items', body(id, meta, entityType))).status;
  }

  test('newest first, null compute ids included, at most COMPUTE_HISTORY_SIZE, exact body', async () => {
    const id = uid();
    await writeAt('2025-10-16T10:00:00.000Z', id, { compute_id: 'spark-job-1' });
    const first = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/history`);
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(
      first.text,
      `{"bright_uid":"${id}","category":"${CAT}","compute_history":[{"compute_id":"spark-job-1","timestamp":"2025-10-16T10:00:00.000Z"}]}`,
    );
    await writeAt('2025-10-16T11:00:00.000Z', id, {});
    await writeAt('2025-10-16T12:00:00.000Z', id, { compute_id: 'spark-job-3' });
    await writeAt('2025-10-16T13:00:00.000Z', id, { compute_id: 'spark-job-4' });
    const res = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/history?entity_type=bright_uid`);
    assert.equal(
      res.text,
      `{"bright_uid":"${id}","category":"${CAT}","compute_history":[` +
        `{"compute_id":"spark-job-4","timestamp":"2025-10-16T13:00:00.000Z"},` +
        `{"compute_id":"spark-job-3","timestamp":"2025-10-16T12:00:00.000Z"},` +
        `{"compute_id":null,"timestamp":"2025-10-16T11:00:00.000Z"}]}`,
    );
  });

  test('ordinary reads stay byte for byte as before: no history in them', async () => {
    const id = uid();
    await writeAt('2025-10-16T10:00:00.000Z', id, { compute_id: 'a' });
    await writeAt('2025-10-16T10:05:00.000Z', id, { compute_id: 'b' });
    const record =
      `{"bright_uid":"${id}","category":"${CAT}","features":{"data":{"score":1},` +
      `"meta":{"created_at":"2025-10-16T10:00:00.000Z","updated_at":"2025-10-16T10:05:00.000Z","compute_id":"b"}}}`;
    assert.equal((await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}`)).text, record);
    assert.equal((await live.http.get(`/api/v1/get/item/${enc(id)}?category=${CAT}`)).text, record);
    const multi = await live.http.post('/api/v1/get/items', { meta: { source: 'x' }, data: { entity_type: 'bright_uid', entity_value: id, feature_list: [`${CAT}:*`] } });
    assert.equal(multi.text, `{"entity_value":"${id}","entity_type":"bright_uid","items":{"${CAT}":${record}},"unavailable_feature_categories":[]}`);
  });

  test('a stale write (409) adds no entry', async () => {
    const id = uid();
    await writeAt('2025-10-16T10:00:00.000Z', id, { compute_id: 'new', event_time: '2025-10-16T10:00:00Z' });
    assert.equal(await writeAt('2025-10-16T10:01:00.000Z', id, { compute_id: 'late', event_time: '2025-10-16T09:00:00Z' }), 409);
    const res = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/history`);
    assert.deepEqual((res.json as { compute_history: unknown }).compute_history, [{ compute_id: 'new', timestamp: '2025-10-16T10:00:00.000Z' }]);
  });

  test('account_pid records are keyed by account_pid', async () => {
    const id = uid();
    await writeAt('2025-10-16T10:00:00.000Z', id, { compute_id: 'acct-job' }, 'account_pid');
    const res = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/history?entity_type=account_pid`);
    assert.equal(
      res.text,
      `{"account_pid":"${id}","category":"${CAT}","compute_history":[{"compute_id":"acct-job","timestamp":"2025-10-16T10:00:00.000Z"}]}`,
    );
    assert.equal((await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/history`)).status, 404, 'not a bright_uid record');
  });

  test("a record in the old service's format has an empty history", async () => {
    const id = uid();
    await live.instance.insertLegacy(legacyRecord(id, CAT));
    const res = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/history`);
    assert.equal(res.text, `{"bright_uid":"${id}","category":"${CAT}","compute_history":[]}`);
  });

  test('400 and 404 exactly like a read', async () => {
    const id = uid();
    const missing = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/history`);
    assert.equal(missing.status, 404);
    assert.equal(missing.text, JSON.stringify({ detail: `Item not found: ${id}/${CAT}`, code: 'NOT_FOUND' }));
    const category = await live.http.get(`/api/v1/get/item/${enc(id)}/other_features/history`);
    assert.equal(category.status, 400);
    assert.equal(
      category.text,
      JSON.stringify({
        detail: "Category 'other_features' is not allowed for read operations. Allowed categories: d0_unauth_features, ncr_unauth_features",
        code: 'CATEGORY_NOT_ALLOWED',
      }),
    );
    const type = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/history?entity_type=planet`);
    assert.equal(type.status, 400);
    assert.equal(type.text, JSON.stringify({ detail: 'Invalid entity_type: planet', code: 'INVALID_ENTITY_TYPE' }));
    // The read's own answers, for comparison.
    assert.equal((await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}`)).text, missing.text);
    assert.equal((await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}?entity_type=planet`)).text, type.text);
  });

  test('COMPUTE_HISTORY_SIZE=0 turns it off: writes leave the history as it is, the endpoint answers []', async () => {
    const id = uid();
    await writeAt('2025-10-16T10:00:00.000Z', id, { compute_id: 'before' });
    const off = await startService(live.instance, { clock: live.time.clock, env: { COMPUTE_HISTORY_SIZE: '0' } });
    try {
      const offHttp = client(off.url);
      live.time.set('2025-10-16T10:10:00.000Z');
      assert.equal((await offHttp.post('/api/v1/items', body(id, { compute_id: 'while-off' }))).status, 200);
      assert.deepEqual((await offHttp.get(`/api/v1/get/item/${enc(id)}/${CAT}/history`)).json, { bright_uid: id, category: CAT, compute_history: [] });
      assert.equal((await offHttp.get(`/api/v1/get/item/${enc(uid())}/${CAT}/history`)).status, 404);
    } finally {
      await off.close();
    }
    const on = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/history`);
    assert.deepEqual((on.json as { compute_history: unknown }).compute_history, [{ compute_id: 'before', timestamp: '2025-10-16T10:00:00.000Z' }]);
  });
});
