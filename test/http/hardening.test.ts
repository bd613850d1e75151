import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance, TestBackend } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { rawExchange } from '../support/raw-http.js';
import { client, startService, type HttpResult } from '../support/service.js';
import { serviceForSuite } from '../support/suite-service.js';

const CAT = 'd0_unauth_features';
let counter = 0;
const uid = (): string => `hard-${process.pid}-${Date.now()}-${++counter}`;
const enc = encodeURIComponent;

/** A write body as raw JSON text, so tests can put escapes and number tokens in it as written. */
function rawWrite(parts: { entityValue?: string; features?: string; source?: string; computeId?: string; category?: string }): string {
  const q = (s: string): string => JSON.stringify(s);
  return (
    `{"meta":{"source":${parts.source ?? q('prediction_service')}${parts.computeId === undefined ? '' : `,"compute_id":${parts.computeId}`}},` +
    `"data":{"entity_type":"bright_uid","entity_value":${parts.entityValue ?? q(uid())},"category":${parts.category ?? q(CAT)},` +
    `"features":${parts.features ?? '{"a":1}'}}}`
  );
}

function issues(res: HttpResult): { type: string; loc: (string | number)[] }[] {
  assert.equal(res.status, 422, res.text);
  const body = res.json as { detail: { type: string; loc: (string | number)[]; msg: string }[]; code: string };
  assert.equal(body.code, 'VALIDATION_FAILED');
  return body.detail.map((d) => ({ type: d.type, loc: d.loc }));
}

function hardeningSuite(backend: TestBackend): void {
  describe(`hostile input: ${backend.name}`, () => {
    const service = serviceForSuite(backend);

    test('bad percent-encoding and invalid UTF-8 in a path are 400 in the API error shape', async () => {
      for (const segment of ['%zz', 'a%e2%82', '%ED%A0%80']) {
        const res = await service.http.get(`/api/v1/get/item/${segment}/${CAT}`);
        assert.equal(res.status, 400, segment);
        assert.equal(res.text, '{"detail":"Bad Request: the URL path is not valid percent-encoded UTF-8","code":"BAD_REQUEST"}');
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.ok(res.headers.get('x-request-id'), `res.headers.get('x-request-id')`);
      }
    });

    test('a 13,000-character path segment is 414', async () => {
      const res = await service.http.get(`/api/v1/get/item/${'a'.repeat(13000)}/${CAT}`);
      assert.equal(res.status, 414);
      assert.equal(res.text, '{"detail":"URI Too Long","code":"URI_TOO_LONG"}');
    });

    test('unparseable HTTP is 400 and oversized headers 431, in the API error shape, and the connection is closed', async () => {
      const garbage = await rawExchange(service.runtime.url, ['GARBAGE\r\n\r\n']);
      assert.equal(garbage.status, 400, garbage.text);
      assert.equal(garbage.body, '{"detail":"Bad Request: the request is not valid HTTP","code":"BAD_REQUEST"}');
      assert.ok(garbage.closedByServer, 'garbage.closedByServer');
      const huge = await rawExchange(service.runtime.url, [`GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`]);
      assert.equal(huge.status, 431, huge.text);
      assert.equal(huge.body, '{"detail":"Request Header Fields Too Large","code":"HEADERS_TOO_LARGE"}');
      assert.ok(huge.closedByServer, 'huge.closedByServer');
    });

    test('an unknown static file under /docs is 404, not 405', async () => {
      const res = await service.http.get('/docs/static/nope.js');
      assert.equal(res.status, 404);
      assert.equal(res.text, '{"detail":"Not Found","code":"ROUTE_NOT_FOUND"}');
    });

    test('malformed JSON nested 100,000 deep is 422 json_invalid at its offset, not 500', async () => {
      for (const text of ['['.repeat(100_000), '{"a":'.repeat(100_000), `${'['.repeat(100_000)}x`]) {
        const res = await service.http.post('/api/v1/items', text);
        const at = text.endsWith('x') ? text.length - 1 : text.length;
        assert.deepEqual(issues(res), [{ type: 'json_invalid', loc: ['body', at] }]);
      }
    });

    test('an unpaired surrogate in any string is 422 at its place and never reaches the store', async () => {
      // The key a store would confuse with the surrogate one (DynamoDB maps both to U+FFFD).
      const base = uid();
      const neighbour = `${base}\ufffd`;
      assert.equal((await service.http.post('/api/v1/items', rawWrite({ entityValue: JSON.stringify(neighbour), features: '{"who":"neighbour"}' }))).status, 200);

      const cases: [Parameters<typeof rawWrite>[0], (string | number)[]][] = [
        [{ entityValue: `"${base}\\ud800"` }, ['body', 'data', 'entity_value']],
        [{ entityValue: `"${base}\\udbff"` }, ['body', 'data', 'entity_value']],
        [{ entityValue: `"${base}\\udc00"` }, ['body', 'data', 'entity_value']],
        [{ features: '{"name\\ud800":1}' }, ['body', 'data', 'features', 'name\ud800']],
        [{ features: '{"a":[1,{"deep":["x","\\udfff y"]}]}' }, ['body', 'data', 'features', 'a', 1, 'deep', 1]],
        [{ computeId: '"job-\\ud800"' }, ['body', 'meta', 'compute_id']],
        [{ source: '"prediction_service\\ud800"' }, ['body', 'meta', 'source']],
        [{ category: `"${CAT}\\ud800"` }, ['body', 'data', 'category']],
      ];
      for (const [parts, loc] of cases) {
        assert.deepEqual(issues(await service.http.post('/api/v1/items', rawWrite({ entityValue: JSON.stringify(base), ...parts }))), [{ type: 'string_unicode', loc }]);
      }
      const read = await service.http.get(`/api/v1/get/item/${enc(neighbour)}/${CAT}`);
      assert.deepEqual((read.json as { features: { data: unknown } }).features.data, { who: 'neighbour' });
      assert.equal((await service.http.get(`/api/v1/get/item/${enc(base)}/${CAT}`)).status, 404);

      const multi = await service.http.post(
        '/api/v1/get/items',
        `{"meta":{"source":"x"},"data":{"entity_type":"bright_uid","entity_value":"${base}\\ud800","feature_list":["${CAT}:*"]}}`,
      );
      assert.deepEqual(issues(multi), [{ type: 'string_unicode', loc: ['body', 'data', 'entity_value'] }]);
    });

    test('escaped surrogate pairs (emoji as Python json.dumps sends them) and an escaped backslash are fine', async () => {
      const id = uid();
      const res = await service.http.post('/api/v1/items', rawWrite({ entityValue: `"${id}\\ud83d\\ude00"`, features: '{"e\\ud83d\\ude00":"\\\\ud800"}' }));
      assert.equal(res.status, 200, res.text);
      const read = await service.http.get(`/api/v1/get/item/${enc(`${id}😀`)}/${CAT}`);
      assert.deepEqual((read.json as { features: { data: unknown } }).features.data, { 'e😀': '\\ud800' });
    });

    test('a number that underflows to zero is 422 as overflow is; zeros written as zeros are stored', async () => {
      const id = uid();
      assert.deepEqual(issues(await service.http.post('/api/v1/items', rawWrite({ entityValue: JSON.stringify(id), features: '{"n":1e-400}' }))), [
        { type: 'number_underflow', loc: ['body', 'data', 'features', 'n'] },
      ]);
      const tiny = `0.${'0'.repeat(400)}1`;
      assert.deepEqual(
        issues(await service.http.post('/api/v1/items', rawWrite({ entityValue: JSON.stringify(id), features: `{"a":[0,{"b":-1E-400}],"c":${tiny}}` }))),
        [
          { type: 'number_underflow', loc: ['body', 'data', 'features', 'a', 1, 'b'] },
          { type: 'number_underflow', loc: ['body', 'data', 'features', 'c'] },
        ],
      );
      assert.equal((await service.http.get(`/api/v1/get/item/${enc(id)}/${CAT}`)).status, 404);

      const zeros = '{"z":0,"f":0.0,"m":-0,"e":0e5,"u":0e-400,"s":"1e-400","d":5e-324}';
      const ok = await service.http.post('/api/v1/items', rawWrite({ entityValue: JSON.stringify(id), features: zeros }));
      assert.equal(ok.status, 200, ok.text);
      const read = await service.http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
      assert.deepEqual((read.json as { features: { data: unknown } }).features.data, { z: 0, f: 0, m: 0, e: 0, u: 0, s: '1e-400', d: 5e-324 });
    });

    test('input echoed in an error is cut to about 100 characters', async () => {
      const source = 's'.repeat(900_000);
      const res = await service.http.post('/api/v1/items', { meta: { source }, data: { entity_type: 'bright_uid', entity_value: uid(), category: CAT, features: { a: 1 } } });
      assert.equal(res.status, 422);
      assert.ok(res.text.length < 400, `${res.text.length} bytes`);
      const msg = (res.json as { detail: { msg: string }[] }).detail[0]?.msg ?? '';
      assert.ok(msg.includes(`'${'s'.repeat(100)}… (900000 characters)'`), msg);

      const category = 'c'.repeat(5000);
      const read = await service.http.get(`/api/v1/get/item/u?category=${category}`);
      assert.equal(read.status, 400);
      assert.ok(read.text.length < 400, read.text);
      const type = await service.http.get(`/api/v1/get/item/u/${CAT}?entity_type=${'t'.repeat(5000)}`);
      assert.equal(type.status, 400);
      assert.ok(type.text.length < 400, type.text);
    });

    test('API responses carry nosniff and no-store, errors included', async () => {
      for (const res of [
        await service.http.get('/api/v1/health'),
        await service.http.get(`/api/v1/get/item/${enc(uid())}/${CAT}`),
        await service.http.post('/api/v1/items', '{'),
        await service.http.get('/api/v1/nope'),
      ]) {
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(res.headers.get('cache-control'), 'no-store');
      }
      const docs = await service.http.get('/docs');
      assert.equal(docs.headers.get('x-content-type-options'), 'nosniff');
    });
  });
}

function mediaTypeSuite(backend: TestBackend): void {
  describe(`only JSON bodies: ${backend.name}`, () => {
    const service = serviceForSuite(backend);

    test('text/plain, form and multipart bodies (what a cross-site page can send without a preflight) are 415, nothing stored', async () => {
      const id = uid();
      for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
        const res = await service.http.post('/api/v1/items', rawWrite({ entityValue: JSON.stringify(id) }), { 'content-type': type });
        assert.equal(res.status, 415, type);
        assert.equal(res.text, JSON.stringify({ detail: `Unsupported media type: ${type}; send application/json`, code: 'UNSUPPORTED_MEDIA_TYPE' }));
        assert.ok(res.headers.get('x-request-id'), `res.headers.get('x-request-id')`);
      }
      const multi = await service.http.post('/api/v1/get/items', '{}', { 'content-type': 'text/plain' });
      assert.equal(multi.status, 415);
      const batch = await service.http.post('/api/v1/get/items/batch', '{}', { 'content-type': 'text/plain' });
      assert.equal(batch.status, 415);
      const merge = await service.http.request('PATCH', '/api/v1/items', rawWrite({ entityValue: JSON.stringify(id) }), { 'content-type': 'text/plain' });
      assert.equal(merge.status, 415);
      assert.equal((await service.http.get(`/api/v1/get/item/${enc(id)}/${CAT}`)).status, 404);
    });

    test('a body without a content type is 415; a bodyless POST is still a 422 for the missing body', async () => {
      const body = rawWrite({});
      const raw = await rawExchange(service.runtime.url, [
        `POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      ]);
      assert.equal(raw.status, 415, raw.text);
      assert.equal(raw.body, '{"detail":"Unsupported media type: (none); send application/json","code":"UNSUPPORTED_MEDIA_TYPE"}');
      const empty = await service.http.request('POST', '/api/v1/items');
      assert.equal(empty.status, 422, empty.text);
    });

    test('application/json with any charset, and any +json type, are accepted', async () => {
      for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/vnd.feature-store+json', 'application/merge-patch+json; charset=utf-8']) {
        const res = await service.http.post('/api/v1/items', rawWrite({}), { 'content-type': type });
        assert.equal(res.status, 200, `${type}: ${res.text}`);
      }
    });

    test('OpenAPI documents the 415 of every body route', async () => {
      const doc = (await service.http.get('/openapi.json')).json as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
      for (const path of ['/api/v1/items', '/api/v1/get/items', '/api/v1/get/items/batch']) assert.ok(doc.paths[path]?.post?.responses['415'], path);
      assert.ok(doc.paths['/api/v1/items']?.patch?.responses['415'], 'PATCH /api/v1/items');
    });

    test('unknown paths stay 404 and wrong methods 405 whatever the body type', async () => {
      assert.equal((await service.http.post('/api/v1/nope', 'x', { 'content-type': 'text/plain' })).status, 404);
      assert.equal((await service.http.post(`/api/v1/get/item/u/${CAT}`, 'x', { 'content-type': 'text/plain' })).status, 405);
    });
  });
}

const APP = 'https://app.example.com';

function corsSuite(backend: TestBackend): void {
  describe(`CORS: ${backend.name}`, () => {
    let instance: BackendInstance;
    let open: Runtime;
    let listed: Runtime;

    before(async () => {
      instance = await backend.setup();
      open = await startService(instance);
      listed = await startService(instance, { env: { CORS_ORIGINS: `${APP}, http://localhost:3000` } });
    });
    after(async () => {
      await listed.close();
      await open.close();
      await instance.teardown();
    });

    const preflight = (runtime: Runtime, origin: string): Promise<HttpResult> =>
      client(runtime.url).request('OPTIONS', '/api/v1/items', undefined, {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      });

    test('off by default: no origin gets CORS headers, so a page elsewhere cannot send JSON or read answers', async () => {
      const pre = await preflight(open, APP);
      assert.equal(pre.headers.get('access-control-allow-origin'), null);
      const read = await client(open.url).get('/api/v1/health', { origin: APP });
      assert.equal(read.headers.get('access-control-allow-origin'), null);
    });

    test('CORS_ORIGINS allows exactly the listed origins', async () => {
      const pre = await preflight(listed, APP);
      assert.equal(pre.status, 204, pre.text);
      assert.equal(pre.headers.get('access-control-allow-origin'), APP);
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.match(pre.headers.get('access-control-allow-headers') ?? '', /content-type/);
      const read = await client(listed.url).get('/api/v1/health', { origin: 'http://localhost:3000' });
      assert.equal(read.headers.get('access-control-allow-origin'), 'http://localhost:3000');
      assert.match(read.headers.get('access-control-expose-headers') ?? '', /x-request-id/);

      const other = await preflight(listed, 'https://evil.example');
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      const otherRead = await client(listed.url).get('/api/v1/health', { origin: 'https://evil.example' });
      assert.equal(otherRead.headers.get('access-control-allow-origin'), null);
    });

    test('with CORS on, unknown paths stay 404 and wrong methods 405', async () => {
      const http = client(listed.url);
      assert.equal((await http.get('/api/v1/nope')).status, 404);
      const wrong = await http.request('DELETE', '/api/v1/items');
      assert.equal(wrong.status, 405);
      assert.match(wrong.headers.get('allow') ?? '', /POST/);
      assert.doesNotMatch(wrong.headers.get('allow') ?? '', /OPTIONS/, 'the preflight route is no method of the resource');
    });
  });
}

for (const backend of BACKENDS) {
  hardeningSuite(backend);
  mediaTypeSuite(backend);
  corsSuite(backend);
}
