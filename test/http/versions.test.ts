import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKENDS } from '../support/backends.js';
import { describeOnEveryBackend, type LiveService } from '../support/live-service.js';

const CAT = 'd0_unauth_features';
let counter = 0;
const uid = (): string => `vers-${process.pid}-${Date.now()}-${++counter}`;
const enc = encodeURIComponent;

function body(entityValue: string, features: Record<string, unknown>, meta: Record<string, unknown> = {}, entityType = 'bright_uid') {
  return { meta: { source: 'prediction_service', ...meta }, data: { entity_type: entityType, entity_value: entityValue, category: CAT, features } };
}

async function writeAt(live: LiveService, iso: string, id: string, features: Record<string, unknown>, meta: Record<string, unknown> = {}): Promise<void> {
  live.time.set(iso);
  const res = await live.http.post('/api/v1/items', body(id, features, meta));
  assert.equal(res.status, 200, res.text);
}

const T = (h: number, extraMs = 0): string => new Date(Date.parse('2025-10-16T10:00:00.000Z') + h * 3_600_000 + extraMs).toISOString();

/** `GET …/versions` and `as_of` on every backend that keeps versions, with VERSIONS_KEPT=2. */
describeOnEveryBackend(
  'versions',
  { VERSIONS_KEPT: '2' },
  (live) => {
    test('current first, then the earlier ones newest first, at most VERSIONS_KEPT, exact body', async () => {
      const id = uid();
      await writeAt(live, T(0), id, { score: 1 }, { compute_id: 'job-1', event_time: '2025-10-16T09:00:00Z' });
      const first = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/versions`);
      assert.equal(first.status, 200);
      assert.equal(
        first.text,
        `{"bright_uid":"${id}","category":"${CAT}","versions":[{"compute_id":"job-1","updated_at":"${T(0)}","event_time":"2025-10-16T09:00:00.000Z","data":{"score":1}}]}`,
      );
      await writeAt(live, T(1), id, { score: 2 });
      await writeAt(live, T(2), id, { score: 3 }, { compute_id: 'job-3' });
      await writeAt(live, T(3), id, { score: 4 }, { compute_id: 'job-4' });
      const res = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/versions?entity_type=bright_uid`);
      assert.equal(
        res.text,
        `{"bright_uid":"${id}","category":"${CAT}","versions":[` +
          `{"compute_id":"job-4","updated_at":"${T(3)}","event_time":null,"data":{"score":4}},` +
          `{"compute_id":"job-3","updated_at":"${T(2)}","event_time":null,"data":{"score":3}},` +
          `{"compute_id":null,"updated_at":"${T(1)}","event_time":null,"data":{"score":2}}]}`,
      );
    });

    test('ordinary reads stay byte for byte as before', async () => {
      const id = uid();
      await writeAt(live, T(0), id, { score: 1 }, { compute_id: 'a' });
      await writeAt(live, T(1), id, { score: 2 }, { compute_id: 'b' });
      const record = `{"bright_uid":"${id}","category":"${CAT}","features":{"data":{"score":2},"meta":{"created_at":"${T(0)}","updated_at":"${T(1)}","compute_id":"b"}}}`;
      assert.equal((await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}`)).text, record);
      assert.equal((await live.http.get(`/api/v1/get/item/${enc(id)}?category=${CAT}`)).text, record);
    });

    test('as_of: exactly at a write, just before it, after the last, before the first, beyond the kept versions', async () => {
      const id = uid();
      await writeAt(live, T(0), id, { score: 1 }, { compute_id: 'job-1' });
      await writeAt(live, T(1), id, { score: 2 }, { compute_id: 'job-2', event_time: '2025-10-16T10:30:00+00:00' });
      await writeAt(live, T(2), id, { score: 3 }, { compute_id: 'job-3' });
      await writeAt(live, T(3), id, { score: 4 }, { compute_id: 'job-4' });
      const read = (asOf: string) => live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}?as_of=${enc(asOf)}`);
      const record = (score: number, updatedAt: string, computeId: string, eventTime?: string) =>
        `{"bright_uid":"${id}","category":"${CAT}","features":{"data":{"score":${score}},"meta":{"created_at":"${T(0)}","updated_at":"${updatedAt}","compute_id":"${computeId}"${eventTime === undefined ? '' : `,"event_time":"${eventTime}"`}}}}`;
      assert.equal((await read(T(3))).text, record(4, T(3), 'job-4'), 'exactly at the current write');
      assert.equal((await read('2030-01-01T00:00:00+02:00')).text, record(4, T(3), 'job-4'), 'after it');
      assert.equal((await read(T(3, -1))).text, record(3, T(2), 'job-3'), '1 ms before: the version before');
      const atSecond = await read(T(1));
      assert.equal(atSecond.status, 200);
      assert.equal(atSecond.text, record(2, T(1), 'job-2', '2025-10-16T10:30:00.000Z'), 'exactly at an earlier write, with its event time');
      assert.equal((await read('2025-10-16T14:00:00+02:00')).text, record(3, T(2), 'job-3'), 'any offset');
      assert.equal((await read('2025-10-16T13:59:59.999+02:00')).text, record(2, T(1), 'job-2', '2025-10-16T10:30:00.000Z'));
      const beyond = await read(T(1, -1));
      assert.equal(beyond.status, 404);
      assert.equal(
        beyond.text,
        JSON.stringify({ detail: `Version not kept: ${id}/${CAT} as of ${T(1, -1)} is older than the versions kept (the oldest kept was written at ${T(1)})`, code: 'VERSION_NOT_KEPT' }),
      );
      const before = await read(T(0, -1));
      assert.equal(before.status, 404);
      assert.equal(before.text, JSON.stringify({ detail: `Item not found as of ${T(0, -1)}: ${id}/${CAT} was first written at ${T(0)}`, code: 'NOT_FOUND_AT_TIME' }));
    });

    test('as_of: an invalid time is a 422 at query.as_of; a missing record a 404; category and entity type 400 as a read', async () => {
      const bad = await live.http.get(`/api/v1/get/item/x/${CAT}?as_of=yesterday`);
      assert.equal(bad.status, 422);
      assert.deepEqual(bad.json, {
        detail: [{ type: 'datetime_parsing', loc: ['query', 'as_of'], msg: 'Input should be a valid datetime: RFC 3339 with a time zone offset, e.g. 2025-10-16T12:00:00+02:00 or 2025-10-16T10:00:00.000Z' }],
        code: 'VALIDATION_FAILED',
      });
      const missing = await live.http.get(`/api/v1/get/item/${uid()}/${CAT}?as_of=2025-10-16T10:00:00Z`);
      assert.equal(missing.status, 404);
      assert.equal((missing.json as { code: string }).code, 'NOT_FOUND');
      assert.equal((await live.http.get(`/api/v1/get/item/x/not_allowed?as_of=2025-10-16T10:00:00Z`)).status, 400);
      assert.equal((await live.http.get(`/api/v1/get/item/x/${CAT}?as_of=2025-10-16T10:00:00Z&entity_type=nope`)).status, 400);
    });

    test('versions: 404 for a missing record, 400 for a category not allowed or an unknown entity type', async () => {
      const missing = await live.http.get(`/api/v1/get/item/${uid()}/${CAT}/versions`);
      assert.equal(missing.status, 404);
      assert.equal((missing.json as { code: string }).code, 'NOT_FOUND');
      assert.equal((await live.http.get('/api/v1/get/item/x/not_allowed/versions')).status, 400);
      assert.equal((await live.http.get(`/api/v1/get/item/x/${CAT}/versions?entity_type=nope`)).status, 400);
    });

    test('a merge is a version too', async () => {
      const id = uid();
      await writeAt(live, T(0), id, { a: 1 }, { compute_id: 'w' });
      live.time.set(T(1));
      const merged = await live.http.request('PATCH', '/api/v1/items', body(id, { b: 2 }, { compute_id: 'm' }));
      assert.equal(merged.status, 200, merged.text);
      const res = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/versions`);
      assert.deepEqual((res.json as { versions: unknown[] }).versions, [
        { compute_id: 'm', updated_at: T(1), event_time: null, data: { a: 1, b: 2 } },
        { compute_id: 'w', updated_at: T(0), event_time: null, data: { a: 1 } },
      ]);
    });
  },
  BACKENDS.filter((b) => b.versions),
);

/** With versions off (VERSIONS_KEPT=0; dynalite always), only the current version is known. */
describeOnEveryBackend('versions off', { VERSIONS_KEPT: '0' }, (live) => {
  test('the versions list holds the current one; as_of before it is VERSION_NOT_KEPT', async () => {
    const id = uid();
    await writeAt(live, T(0), id, { score: 1 }, { compute_id: 'job-1' });
    await writeAt(live, T(1), id, { score: 2 }, { compute_id: 'job-2' });
    const res = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}/versions`);
    assert.deepEqual((res.json as { versions: unknown[] }).versions, [{ compute_id: 'job-2', updated_at: T(1), event_time: null, data: { score: 2 } }]);
    assert.equal((await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}?as_of=${enc(T(1))}`)).status, 200);
    const old = await live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}?as_of=${enc(T(0))}`);
    assert.equal(old.status, 404);
    assert.equal((old.json as { code: string }).code, 'VERSION_NOT_KEPT');
  });
});
