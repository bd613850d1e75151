import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeOnEveryBackend } from '../support/live-service.js';

const CAT = 'd0_unauth_features';
let counter = 0;
const uid = (): string => `et-${process.pid}-${Date.now()}-${++counter}`;
const enc = encodeURIComponent;

function body(entityValue: string, features: Record<string, unknown>, meta: Record<string, unknown> = {}) {
  return { meta: { source: 'prediction_service', ...meta }, data: { entity_type: 'bright_uid', entity_value: entityValue, category: CAT, features } };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Event-time ordering over HTTP (`meta.event_time`), on every backend. */
describeOnEveryBackend('event-time ordering', {}, (live) => {
  const read = (id: string) => live.http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);

  test('an event time with any offset is stored in canonical form and read back after compute_id, in every read', async () => {
    const id = uid();
    live.time.set('2025-10-16T10:05:00.000Z');
    const res = await live.http.post('/api/v1/items', body(id, { score: 1 }, { compute_id: 'job-1', event_time: '2025-10-16T12:00:00.123456+02:00' }));
    assert.equal(res.status, 200, res.text);
    const record =
      `{"bright_uid":"${id}","category":"${CAT}","features":{"data":{"score":1},` +
      `"meta":{"created_at":"2025-10-16T10:05:00.000Z","updated_at":"2025-10-16T10:05:00.000Z","compute_id":"job-1","event_time":"2025-10-16T10:00:00.123Z"}}}`;
    assert.equal((await read(id)).text, record);
    assert.equal((await live.http.get(`/api/v1/get/item/${enc(id)}?category=${CAT}&entity_type=bright_uid`)).text, record);
    const multi = await live.http.post('/api/v1/get/items', { meta: { source: 'x' }, data: { entity_type: 'bright_uid', entity_value: id, feature_list: [`${CAT}:*`] } });
    assert.equal(
      multi.text,
      `{"entity_value":"${id}","entity_type":"bright_uid","items":{"${CAT}":${record}},"unavailable_feature_categories":[]}`,
    );
  });

  test('a record written without an event time reads exactly as before (no event_time key); null means not given', async () => {
    for (const meta of [{}, { event_time: null }]) {
      const id = uid();
      live.time.set('2025-10-16T10:00:00.000Z');
      assert.equal((await live.http.post('/api/v1/items', body(id, { a: 1 }, meta))).status, 200);
      assert.equal(
        (await read(id)).text,
        `{"bright_uid":"${id}","category":"${CAT}","features":{"data":{"a":1},"meta":{"created_at":"2025-10-16T10:00:00.000Z","updated_at":"2025-10-16T10:00:00.000Z","compute_id":null}}}`,
      );
    }
  });

  test('an older event time is 409 STALE_WRITE with the exact body, and nothing changes', async () => {
    const id = uid();
    live.time.set('2025-10-16T10:00:00.000Z');
    await live.http.post('/api/v1/items', body(id, { v: 'new' }, { compute_id: 'job-new', event_time: '2025-10-16T10:00:00Z' }));
    const before = await read(id);
    live.time.set('2025-10-16T10:10:00.000Z');
    const res = await live.http.post('/api/v1/items', body(id, { v: 'old' }, { compute_id: 'job-old', event_time: '2025-10-16T11:59:59.999+02:00' }));
    assert.equal(res.status, 409);
    assert.equal(
      res.text,
      JSON.stringify({
        detail: `A newer write exists for ${id}/${CAT}: stored event_time 2025-10-16T10:00:00.000Z is later than 2025-10-16T09:59:59.999Z`,
        code: 'STALE_WRITE',
      }),
    );
    assert.equal((await read(id)).text, before.text);
  });

  test('an equal event time applies, a newer one applies, and a write without one applies and clears it', async () => {
    const id = uid();
    live.time.set('2025-10-16T10:00:00.000Z');
    await live.http.post('/api/v1/items', body(id, { v: 1 }, { event_time: '2025-10-16T10:00:00Z' }));
    live.time.set('2025-10-16T10:01:00.000Z');
    assert.equal((await live.http.post('/api/v1/items', body(id, { v: 2 }, { event_time: '2025-10-16T12:00:00+02:00' }))).status, 200);
    let meta = ((await read(id)).json as { features: { data: unknown; meta: Record<string, unknown> } }).features;
    assert.deepEqual(meta.data, { v: 2 });
    assert.equal(meta.meta.event_time, '2025-10-16T10:00:00.000Z');
    live.time.set('2025-10-16T10:02:00.000Z');
    assert.equal((await live.http.post('/api/v1/items', body(id, { v: 3 }, { event_time: '2025-10-16T10:00:00.001Z' }))).status, 200);
    assert.equal(((await read(id)).json as { features: { meta: Record<string, unknown> } }).features.meta.event_time, '2025-10-16T10:00:00.001Z');
    live.time.set('2025-10-16T10:03:00.000Z');
    assert.equal((await live.http.post('/api/v1/items', body(id, { v: 4 }))).status, 200);
    meta = ((await read(id)).json as { features: { data: unknown; meta: Record<string, unknown> } }).features;
    assert.deepEqual(meta, { data: { v: 4 }, meta: { created_at: '2025-10-16T10:00:00.000Z', updated_at: '2025-10-16T10:03:00.000Z', compute_id: null } });
  });

  test('an unparseable event time is 422 at meta.event_time, listed with the other problems; nothing is stored', async () => {
    for (const bad of ['2025-10-16T10:00:00', '2025-02-30T10:00:00Z', 'yesterday', '1760608800']) {
      const id = uid();
      const res = await live.http.post('/api/v1/items', body(id, { a: 1 }, { event_time: bad }));
      assert.equal(res.status, 422, bad);
      const detail = (res.json as { detail: { type: string; loc: string[]; msg: string }[] }).detail;
      assert.deepEqual(detail.map((d) => [d.type, d.loc]), [['datetime_parsing', ['body', 'meta', 'event_time']]], bad);
      assert.match(detail[0]?.msg ?? '', /RFC 3339/);
      assert.equal((await read(id)).status, 404);
    }
    const id = uid();
    const res = await live.http.post('/api/v1/items', { meta: { source: 'intruder', event_time: 'soon' }, data: { entity_type: 'bright_uid', entity_value: id } });
    assert.deepEqual(
      (res.json as { detail: { type: string; loc: string[] }[] }).detail.map((d) => [d.type, d.loc.join('.')]),
      [
        ['value_error', 'body.meta.source'],
        ['datetime_parsing', 'body.meta.event_time'],
        ['missing', 'body.data.category'],
        ['missing', 'body.data.features'],
      ],
    );
    const wrongType = await live.http.post('/api/v1/items', body(id, { a: 1 }, { event_time: 1760608800 }));
    assert.deepEqual(
      (wrongType.json as { detail: { type: string; loc: string[] }[] }).detail.map((d) => [d.type, d.loc.join('.')]),
      [['string_type', 'body.meta.event_time']],
    );
  });

  test('concurrent writes with different event times, in random arrival order: the newest always wins', async () => {
    for (let round = 0; round < 3; round++) {
      const id = uid();
      const order = shuffle(Array.from({ length: 16 }, (_, i) => i));
      // Offsets vary too: the comparison is on the instant, not the text.
      const eventTime = (i: number): string => new Date(Date.parse('2025-10-16T10:00:00.000Z') + i * 1000).toISOString().replace('Z', '+00:00');
      const results = await Promise.all(order.map((i) => live.http.post('/api/v1/items', body(id, { i }, { compute_id: `job-${i}`, event_time: eventTime(i) }))));
      results.forEach((res, n) => {
        const i = order[n] as number;
        if (i === 15) assert.equal(res.status, 200, 'the newest write is never refused');
        else assert.ok(res.status === 200 || res.status === 409, res.text);
        if (res.status === 409) assert.equal((res.json as { code: string }).code, 'STALE_WRITE');
      });
      const stored = ((await read(id)).json as { features: { data: unknown; meta: { compute_id: string; event_time: string } } }).features;
      assert.deepEqual(stored.data, { i: 15 });
      assert.equal(stored.meta.compute_id, 'job-15');
      assert.equal(stored.meta.event_time, '2025-10-16T10:00:15.000Z');
    }
  });
});
