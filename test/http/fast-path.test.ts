import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fastReadKey } from '../../src/http/fast-read.js';
import type { TestBackend } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import type { HttpResult } from '../support/service.js';
import { serviceForSuite } from '../support/suite-service.js';

/**
 * The hot reads answered without Fastify's pipeline (src/http/fast-read.ts) give the same bytes
 * as the Fastify routes. Each request is sent twice: in plain form, which the fast path takes,
 * and in a form only Fastify takes (a trailing slash or an extra query parameter for a GET, a
 * chunked body for a POST), and the two answers are compared, then checked against the exact
 * body expected.
 */

const CAT = 'd0_unauth_features';
const NCR = 'ncr_unauth_features';
const T0 = '2025-10-16T10:00:00.000Z';
/** Values whose serialization is easy to get wrong: key order, numbers, escapes, non-ASCII. */
const TRICKY = {
  z: 1,
  '10': 'ten',
  '2': 'two',
  ['__proto__']: 0.1,
  tiny: 1.2345678901234568e-7,
  small: 5e-324,
  neg: -0.5,
  text: 'line\nbreak "quoted" \\ back \u2028 é 😀',
  nested: { b: [1, { a: null }], a: true },
  empty: {},
};

let counter = 0;
const uid = (): string => `fast-${process.pid}-${Date.now()}-${++counter}`;

/** A POST whose body goes out chunked (no Content-Length), which only Fastify takes. */
function chunked(body: unknown): RequestInit {
  const bytes = new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.subarray(0, 7));
      controller.enqueue(bytes.subarray(7));
      controller.close();
    },
  });
  return { method: 'POST', body: stream, headers: { 'content-type': 'application/json' }, duplex: 'half' };
}

/**
 * Every header but those that differ per response (the date, a generated request id) or per
 * connection (whether Node keeps it open can differ for the chunked body that sends a POST to
 * Fastify).
 */
const PER_RESPONSE = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);
const comparable = (headers: Headers): [string, string][] => [...headers].filter(([name]) => !PER_RESPONSE.has(name));

function assertSameAnswer(fast: HttpResult, slow: { status: number; headers: Headers; text: string }): void {
  assert.equal(fast.status, slow.status, fast.text);
  assert.equal(fast.text, slow.text);
  assert.deepEqual(comparable(fast.headers), comparable(slow.headers));
  assert.match(fast.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
}

function fastPathSuite(backend: TestBackend): void {
  describe(`fast read paths: ${backend.name}`, () => {
    const service = serviceForSuite(backend);
    const { http, time } = service;
    const url = (path: string) => `${service.runtime.url}${path}`;
    const write = (entityValue: string, category: string, features: unknown) =>
      http.post('/api/v1/items', { meta: { source: 'prediction_service', compute_id: 'job-f' }, data: { entity_type: 'bright_uid', entity_value: entityValue, category, features } });
    const postChunked = async (path: string, body: unknown) => {
      const res = await fetch(url(path), chunked(body));
      return { status: res.status, headers: res.headers, text: await res.text() };
    };

    test('a one-category read: same bytes and headers on both paths, exactly the record', async () => {
      time.set(T0);
      const id = uid();
      assert.equal((await write(id, CAT, TRICKY)).status, 200);
      const fast = await http.get(`/api/v1/get/item/${id}/${CAT}`);
      assertSameAnswer(fast, await http.get(`/api/v1/get/item/${id}/${CAT}/`));
      assertSameAnswer(fast, await http.get(`/api/v1/get/item/${id}/${CAT}?entity_type=bright_uid&x=1`));
      const meta = { created_at: T0, updated_at: T0, compute_id: 'job-f' };
      assert.equal(fast.text, JSON.stringify({ bright_uid: id, category: CAT, features: { data: TRICKY, meta } }));
      assert.equal((await http.get(`/api/v1/get/item/${id}/${CAT}?entity_type=bright_uid`)).text, fast.text);
      assert.equal((await http.get(`/api/v1/get/item/${id}/${CAT}`, { 'x-request-id': 'trace-42' })).headers.get('x-request-id'), 'trace-42');
    });

    test('refusals: same status and body on both paths (missing record, unknown entity type, category off the list)', async () => {
      const id = uid();
      for (const [fastPath, slowPath] of [
        [`/api/v1/get/item/${id}/${CAT}`, `/api/v1/get/item/${id}/${CAT}/`],
        [`/api/v1/get/item/${id}/${CAT}?entity_type=nope`, `/api/v1/get/item/${id}/${CAT}?entity_type=nope&x=1`],
        [`/api/v1/get/item/${id}/not_listed`, `/api/v1/get/item/${id}/not_listed/`],
      ] as const) {
        const fast = await http.get(fastPath);
        assert.ok(fast.status >= 400 && fast.status < 500, fast.text);
        assertSameAnswer(fast, await http.get(slowPath));
      }
    });

    test('multi-read and batch read: same bytes on both paths, also for invalid and malformed bodies', async () => {
      time.set(T0);
      const a = uid();
      const b = uid();
      await write(a, CAT, TRICKY);
      await write(a, NCR, { credit_score: 700, ncr_score: 0.25 });
      await write(b, CAT, { only: 'one' });
      const list = [`${CAT}:*`, `${NCR}:ncr_score`, `${NCR}:missing`, 'not_listed:x'];
      const meta = { source: 'prediction_service' };
      const bodies: [string, unknown][] = [
        ['/api/v1/get/items', { meta, data: { entity_type: 'bright_uid', entity_value: a, feature_list: list } }],
        ['/api/v1/get/items', { meta, data: { entity_type: 'bright_uid', entity_value: b, feature_list: list } }],
        ['/api/v1/get/items/batch', { meta, data: { entity_type: 'bright_uid', entity_values: [a, b, uid(), a], feature_list: list } }],
        ['/api/v1/get/items', { meta, data: { entity_type: 'bright_uid', entity_value: a } }],
        ['/api/v1/get/items/batch', { meta, data: { entity_type: 'nope', entity_values: [a], feature_list: list } }],
      ];
      for (const [path, body] of bodies) assertSameAnswer(await http.post(path, body), await postChunked(path, body));
      const one = await http.post('/api/v1/get/items', bodies[0]?.[1]);
      const record = (category: string, data: unknown) => ({ bright_uid: a, category, features: { data, meta: { created_at: T0, updated_at: T0, compute_id: 'job-f' } } });
      assert.equal(
        one.text,
        JSON.stringify({
          entity_value: a,
          entity_type: 'bright_uid',
          items: { [CAT]: record(CAT, TRICKY), [NCR]: record(NCR, { ncr_score: 0.25 }) },
          unavailable_feature_categories: ['not_listed'],
        }),
      );
      const malformed = await http.request('POST', '/api/v1/get/items', '{"meta": {', { 'content-type': 'application/json' });
      assert.equal(malformed.status, 422);
      assertSameAnswer(malformed, await postChunked('/api/v1/get/items', '{"meta": {'));
    });

    test('read bodies as clients write them, and every near miss of that text: same answers on both paths', async () => {
      time.set(T0);
      const odd = [`odd-é-😀-\u2028-${uid()}`, `odd-__proto__-${uid()}`, `odd-{"json":1}-${uid()}`.replace(/"/g, "'")];
      for (const value of odd) {
        await write(value, CAT, TRICKY);
        await write(value, NCR, { credit_score: 1, ncr_score: 0.5 });
      }
      const [a, b] = odd as [string, string];
      const list = JSON.stringify([`${CAT}:*`, `${NCR}:ncr_score`, 'not_listed:x']);
      const multi = (value: string, features = list, source = '"prediction_service"') =>
        `{"meta":{"source":${source}},"data":{"entity_type":"bright_uid","entity_value":${value},"feature_list":${features}}}`;
      const batch = (values: string, features = list) => `{"meta":{"source":"bench"},"data":{"entity_type":"bright_uid","entity_values":${values},"feature_list":${features}}}`;
      const lastWins = multi(JSON.stringify(a)).slice(0, -1) + `,"data":{"entity_type":"bright_uid","entity_value":${JSON.stringify(b)},"feature_list":${list}}}`;
      const escapedE = multi(JSON.stringify(a).replace('é', '\\u00e9'));
      const invalid = [multi(JSON.stringify(a), '["nocolon",":x","a:"]'), multi(JSON.stringify('x'.repeat(1025))), multi('""'), multi('5')];
      const manyValues = Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? a : `none-${i}`));
      const many = JSON.stringify(manyValues);
      const cases: [string, string][] = [
        // As JSON.stringify writes them (json-plain.ts takes these).
        ...odd.map((value): [string, string] => ['/api/v1/get/items', multi(JSON.stringify(value))]),
        ['/api/v1/get/items', multi(JSON.stringify(a), '[]')],
        ...invalid.slice(0, 3).map((text): [string, string] => ['/api/v1/get/items', text]),
        ['/api/v1/get/items', multi(JSON.stringify(a), list, '""')],
        ['/api/v1/get/items', multi(JSON.stringify(a)).replace('"bright_uid"', '"nope"')],
        ['/api/v1/get/items', multi(JSON.stringify(a)).replace('"bright_uid"', '""')],
        ['/api/v1/get/items', multi(JSON.stringify(a), `[${JSON.stringify(`${CAT}:*`)},${JSON.stringify(`${CAT}:*`)}]`)],
        ['/api/v1/get/items/batch', batch(JSON.stringify(odd))],
        ['/api/v1/get/items/batch', batch('[]')],
        ['/api/v1/get/items/batch', batch(JSON.stringify([a, a, b, 'none']), '[]')],
        ['/api/v1/get/items/batch', batch(many)],
        ['/api/v1/get/items/batch', batch(JSON.stringify([...manyValues, a]))],
        // Near misses: JSON.parse reads them.
        ['/api/v1/get/items', JSON.stringify(JSON.parse(multi(JSON.stringify(a))), null, 2)],
        ['/api/v1/get/items', ` ${multi(JSON.stringify(a))}\n`],
        ['/api/v1/get/items', multi(JSON.stringify(a)).replace('{"meta":', '{ "meta" :')],
        ['/api/v1/get/items', `{"data":{"entity_type":"bright_uid","entity_value":${JSON.stringify(a)},"feature_list":${list}},"meta":{"source":"x"}}`],
        ['/api/v1/get/items', multi(JSON.stringify(a)).replace('"entity_value"', '"extra":1,"entity_value"')],
        ['/api/v1/get/items', lastWins],
        ['/api/v1/get/items', multi(JSON.stringify(b)).replace('"entity_value"', `"entity_value":${JSON.stringify(a)},"entity_value"`)],
        ['/api/v1/get/items', multi('"odd-\\u00e9"')],
        ['/api/v1/get/items', escapedE],
        ['/api/v1/get/items', multi('"a\\"b"')],
        ['/api/v1/get/items', multi('"\\ud800x"')],
        ['/api/v1/get/items', multi('"tab\there"')],
        ['/api/v1/get/items', invalid[3] as string],
        ['/api/v1/get/items', multi('null')],
        ['/api/v1/get/items', multi(JSON.stringify(a), '[1,"x:y"]')],
        ['/api/v1/get/items', multi(JSON.stringify(a), '["x:y",]')],
        ['/api/v1/get/items', multi(JSON.stringify(a), list, '1e-400')],
        ['/api/v1/get/items', `${multi(JSON.stringify(a))}x`],
        ['/api/v1/get/items', multi(JSON.stringify(a)).slice(0, -1)],
        ['/api/v1/get/items', multi(JSON.stringify(a)).replace('"bright_uid"', '"bright_uid\u0001"')],
        ['/api/v1/get/items/batch', batch(JSON.stringify([a, b]).replace(',', ' , '))],
        ['/api/v1/get/items/batch', batch('"one"')],
        ['/api/v1/get/items/batch', batch(JSON.stringify([a, 7]))],
      ];
      for (const [path, text] of cases) {
        const fast = await http.request('POST', path, text, { 'content-type': 'application/json' });
        assertSameAnswer(fast, await postChunked(path, text));
      }
      // The answers are what they should be, not only the same both ways.
      const found = await http.request('POST', '/api/v1/get/items', multi(JSON.stringify(a)), { 'content-type': 'application/json' });
      assert.equal(found.status, 200, found.text);
      assert.ok(found.text.startsWith(`{"entity_value":${JSON.stringify(a)},"entity_type":"bright_uid","items":{"${CAT}":`), found.text);
      const repeated = await http.request('POST', '/api/v1/get/items', lastWins, { 'content-type': 'application/json' });
      assert.ok(repeated.text.startsWith(`{"entity_value":${JSON.stringify(b)},`), 'a repeated key: the last value');
      const escaped = await http.request('POST', '/api/v1/get/items', escapedE, { 'content-type': 'application/json' });
      assert.equal(escaped.text, found.text, 'an escaped é reads the same entity');
      for (const text of invalid) assert.equal((await http.request('POST', '/api/v1/get/items', text, { 'content-type': 'application/json' })).status, 422, text);
    });

    test('writes: same answers on both paths for valid bodies and for every kind of refusal', async () => {
      const id = uid();
      const data = { entity_type: 'bright_uid', entity_value: id, category: CAT, features: { a: 1 } };
      const bodies: unknown[] = [
        { meta: { source: 'prediction_service', compute_id: 'job-w' }, data },
        { meta: { source: 'nope' }, data: { ...data, features: 'not a map' } },
        { meta: { source: 'prediction_service' }, data: { ...data, category: 'not_listed' } },
        { meta: { source: 'prediction_service' }, data: { ...data, entity_type: 'nope' } },
        [],
      ];
      for (const body of bodies) assertSameAnswer(await http.post('/api/v1/items', body), await postChunked('/api/v1/items', body));
      const read = await http.get(`/api/v1/get/item/${id}/${CAT}`);
      assert.equal((read.json as { features: { data: { a: number } } }).features.data.a, 1);
    });

    test('both paths count and time requests under the same route template', async () => {
      const id = uid();
      const count = async () => {
        const text = await (await fetch(url('/metrics'))).text();
        const line = text.split('\n').find((l) => l.startsWith('feature_store_http_requests_total{route="/api/v1/get/item/:entity_value/:category",method="GET",status_class="4xx"}'));
        return Number(line?.split(' ')[1] ?? 0);
      };
      const before = await count();
      await http.get(`/api/v1/get/item/${id}/${CAT}`);
      await http.get(`/api/v1/get/item/${id}/${CAT}/`);
      assert.equal(await count(), before + 2);
    });
  });
}

for (const backend of BACKENDS) fastPathSuite(backend);

test('the fast GET takes plain URLs only', () => {
  assert.deepEqual(fastReadKey('/api/v1/get/item/u1/cat'), { entityType: 'bright_uid', entityValue: 'u1', category: 'cat' });
  assert.deepEqual(fastReadKey('/api/v1/get/item/u1/cat?entity_type=account_pid'), { entityType: 'account_pid', entityValue: 'u1', category: 'cat' });
  for (const url of [
    '/api/v1/get/item/u1/cat/',
    '/api/v1/get/item/u%31/cat',
    '/api/v1/get/item/u1',
    '/api/v1/get/item//cat',
    '/api/v1/get/item/u1/cat?entity_type=',
    '/api/v1/get/item/u1/cat?entity_type=a&as_of=2025-10-16T10:00:00Z',
    '/api/v1/get/item/u1/cat?as_of=2025-10-16T10:00:00Z',
    '/api/v1/get/item/u1/cat?',
    `/api/v1/get/item/${'x'.repeat(1025)}/cat`,
    '/api/v1/get/items',
  ]) {
    assert.equal(fastReadKey(url), undefined, url);
  }
});
