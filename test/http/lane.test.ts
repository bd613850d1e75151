import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { formatKeyFile, newSecret, type ApiKey } from '../../src/auth/api-keys.js';
import { MAX_HEADERS, readLaneRequest } from '../../src/http/lane-request.js';
import { startServer, type Runtime } from '../../src/server.js';
import { openStore, testConfig, type BackendInstance, type TestBackend } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { tempDir } from '../support/kafka-service.js';
import { openSocket, rawExchange, rawExchangeOnNode, type RawExchange } from '../support/raw-http.js';
import { sleep, slowReads } from '../support/slow-store.js';
import { serviceForSuite } from '../support/suite-service.js';

/**
 * The HTTP lane (src/http/lane.ts) on real sockets, on every backend. Its answers are compared
 * byte for byte (but for `Date` and generated request ids) with those of node:http on a
 * connection the lane handed over (a health check first: `rawExchangeOnNode`), where node's
 * parser, the node:http fast path and Fastify answer as without the lane; and with Fastify's
 * (a URL form only Fastify takes). Whatever the lane does not take must get node's answer.
 */

const CAT = 'd0_unauth_features';
const NCR = 'ncr_unauth_features';
let counter = 0;
const uid = (): string => `lane-${process.pid}-${++counter}`;

/** Every answer with its `Date` and generated request ids blanked. */
const normal = (text: string): string => text.replace(/^Date: .*$/gm, 'Date: -').replace(/^x-request-id: [0-9a-f-]{36}$/gm, 'x-request-id: -');
const statuses = (res: RawExchange): number[] => [...res.text.matchAll(/HTTP\/1\.[01] (\d{3}) [A-Z]/g)].map((m) => Number(m[1]));

/**
 * The first answer without the headers that are per connection (Fastify closes a connection
 * after a body it could not parse), and with the path a 404 names in its route form.
 */
function firstAnswer(res: RawExchange): string {
  const [head = '', body = ''] = normal(res.text).split('\r\n\r\n');
  const headers = head.split('\r\n').filter((line) => !/^(connection|keep-alive):/i.test(line));
  const length = Number(/^content-length: (\d+)$/m.exec(head)?.[1] ?? 0);
  return `${headers.join('\r\n')}\r\n\r\n${body.slice(0, length)}`.replace(`${CAT}/"`, `${CAT}"`);
}

function get(path: string, headers = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;
}
function post(path: string, body: string, headers = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`;
}
/** A last request that only Fastify takes and that closes the connection, so an exchange ends. */
const CLOSE = get(`/api/v1/get/item/none/${CAT}/`, 'Connection: close\r\n');

function laneSuite(backend: TestBackend): void {
  describe(`HTTP lane: ${backend.name}`, () => {
    const service = serviceForSuite(backend, { BODY_TIMEOUT_MS: '600', HEADERS_TIMEOUT_MS: '400', KEEP_ALIVE_TIMEOUT_MS: '300', MAX_EVENT_LOOP_DELAY_MS: '0' });
    const url = (): string => service.runtime.url;
    /** The same bytes on a fresh (lane) connection and on one node:http reads: the same answers. */
    const sameAsNode = async (bytes: string[], options: { gapMs?: number } = {}): Promise<RawExchange> => {
      const lane = await rawExchange(url(), bytes, options);
      const node = await rawExchangeOnNode(url(), bytes, options);
      assert.equal(normal(lane.text), normal(node.text), JSON.stringify(bytes));
      return lane;
    };
    const write = (id: string, category: string, features: unknown) =>
      service.http.post('/api/v1/items', { meta: { source: 'prediction_service', compute_id: 'job-l' }, data: { entity_type: 'bright_uid', entity_value: id, category, features } });

    test('each hot route and its refusals: the bytes of node:http, and of Fastify but for the route form', async () => {
      const id = uid();
      const missing = uid();
      assert.equal((await write(id, CAT, { a: 1, text: 'é 😀' })).status, 200);
      await write(id, NCR, { ncr_score: 0.5 });
      const list = [`${CAT}:*`, `${NCR}:ncr_score`, 'not_listed:x'];
      const multi = JSON.stringify({ meta: { source: 'prediction_service' }, data: { entity_type: 'bright_uid', entity_value: id, feature_list: list } });
      const batch = JSON.stringify({ meta: { source: 'prediction_service' }, data: { entity_type: 'bright_uid', entity_values: [id, uid()], feature_list: list } });
      const written = JSON.stringify({ meta: { source: 'prediction_service' }, data: { entity_type: 'bright_uid', entity_value: uid(), category: CAT, features: { b: 2 } } });
      const cases: [string, string][] = [
        [get(`/api/v1/get/item/${id}/${CAT}`), get(`/api/v1/get/item/${id}/${CAT}/`)],
        [get(`/api/v1/get/item/${id}/${CAT}`, 'X-Request-Id: trace-1\r\n'), get(`/api/v1/get/item/${id}/${CAT}/`, 'X-Request-Id: trace-1\r\n')],
        [get(`/api/v1/get/item/${missing}/${CAT}`), get(`/api/v1/get/item/${missing}/${CAT}/`)],
        [get(`/api/v1/get/item/${id}/${CAT}?entity_type=nope`), get(`/api/v1/get/item/${id}/${CAT}?entity_type=nope&x=1`)],
        [get(`/api/v1/get/item/${id}/not_listed`), get(`/api/v1/get/item/${id}/not_listed/`)],
        [post('/api/v1/get/items', multi), post('/api/v1/get/items/', multi)],
        [post('/api/v1/get/items/batch', batch), post('/api/v1/get/items/batch/', batch)],
        [post('/api/v1/items', written), post('/api/v1/items/', written)],
        [post('/api/v1/get/items', '{"meta": {'), post('/api/v1/get/items/', '{"meta": {')],
        [post('/api/v1/items', '[]'), post('/api/v1/items/', '[]')],
        [post('/api/v1/items', '{"meta":{"source":"nope"},"data":{}}'), post('/api/v1/items/', '{"meta":{"source":"nope"},"data":{}}')],
      ];
      for (const [lanePath, fastifyPath] of cases) {
        const lane = await sameAsNode([lanePath + CLOSE]);
        const fastify = await rawExchange(url(), [fastifyPath + CLOSE]);
        assert.equal(statuses(lane).length, 2, lane.text);
        assert.equal(firstAnswer(lane), firstAnswer(fastify), lanePath);
      }
    });

    test('a request split across writes, and pipelined lane, node and lane requests, are answered in order', async () => {
      const id = uid();
      await write(id, CAT, { a: 1 });
      const read = get(`/api/v1/get/item/${id}/${CAT}`);
      const split = await sameAsNode([read.slice(0, 20), read.slice(20) + CLOSE], { gapMs: 50 });
      assert.deepEqual(statuses(split), [200, 404]);
      const body = JSON.stringify({ meta: { source: 'prediction_service' }, data: { entity_type: 'bright_uid', entity_value: id, feature_list: [`${CAT}:a`] } });
      const splitBody = post('/api/v1/get/items', body);
      assert.deepEqual(statuses(await sameAsNode([splitBody.slice(0, -5), splitBody.slice(-5) + CLOSE], { gapMs: 50 })), [200, 404]);
      const pipelined = await sameAsNode([read + get('/api/v1/health') + post('/api/v1/get/items', body) + get(`/api/v1/get/item/${id}/${CAT}/`) + read + CLOSE]);
      assert.deepEqual(statuses(pipelined), [200, 200, 200, 200, 200, 404]);
      const lanes = await sameAsNode([read + post('/api/v1/get/items', body) + read + CLOSE]);
      assert.deepEqual(statuses(lanes), [200, 200, 200, 404]);
    });

    test('a client that does not read its answers: the lane waits for it, then answers every request in order', async () => {
      const id = uid();
      assert.equal((await write(id, CAT, { big: 'x'.repeat(30_000) })).status, 200);
      // ~22 KiB of requests (one read, so the lane keeps them) and ~9 MB of answers, more than
      // the socket and the kernel buffer before the lane has to wait for the client.
      const count = 300;
      const socket = await openSocket(url());
      socket.on('error', () => undefined);
      socket.pause();
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      const ended = new Promise((resolve) => socket.once('close', resolve));
      socket.write(get(`/api/v1/get/item/${id}/${CAT}`).repeat(count) + CLOSE);
      await sleep(200);
      socket.resume();
      await ended;
      const got = statuses({ text, status: undefined, body: '', closedByServer: true });
      assert.equal(got.length, count + 1);
      assert.deepEqual(got.slice(-2), [200, 404]);
    });

    test('requests the lane does not read get node:http’s answer', async () => {
      const id = uid();
      const body = '{"meta":{"source":"prediction_service"},"data":{}}';
      const read = `/api/v1/get/item/${id}/${CAT}`;
      const cases = [
        `POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
        `POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        `POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: +${body.length}\r\n\r\n${body}`,
        `GET ${read} HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n`,
        `GET ${read} HTTP/1.1\nHost: x\n\n`,
        `GET ${read} HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n`,
        `GET ${read} HTTP/1.0\r\nHost: x\r\n\r\n`,
        `HEAD ${read} HTTP/1.1\r\nHost: x\r\n\r\n${CLOSE}`,
        `POST /api/v1/get/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n${body}${CLOSE}`,
        `GET http://x${read} HTTP/1.1\r\nHost: x\r\n\r\n${CLOSE}`,
        `GET ${read} HTTP/1.1\r\n\r\n`,
        `GET ${read} HTTP/1.1\r\nHost: x\r\nX-Bad\x01: 1\r\n\r\n`,
        `GET ${read} HTTP/1.1\r\nHost: x\r\nX-A: 1\x7f\r\n\r\n${CLOSE}`,
        `GET ${read} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        `GET ${read} HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n${CLOSE}`,
        `GET ${read} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n${CLOSE}`,
      ];
      for (const request of cases) {
        const res = await sameAsNode([request]);
        assert.ok(res.status !== undefined, JSON.stringify(request));
      }
    });

    test('a body shorter than its Content-Length, then silence: node’s request timeout (408) applies', async () => {
      const body = '{"meta":{"source":"prediction_service"},"data":{}}';
      const res = await sameAsNode([post('/api/v1/items', body).slice(0, -10)]);
      assert.equal(res.status, 408, res.text);
      assert.ok(res.closedByServer, 'res.closedByServer');
    });

    test('Connection: close is honoured; an idle lane connection closes after the keep-alive timeout', async () => {
      const closed = await rawExchange(url(), [get(`/api/v1/get/item/${uid()}/${CAT}`, 'Connection: close\r\n')]);
      assert.deepEqual(statuses(closed), [404]);
      assert.match(closed.text, /\r\nConnection: close\r\n\r\n/);
      assert.ok(closed.closedByServer, 'closed.closedByServer');
      const idle = await rawExchange(url(), [get(`/api/v1/get/item/${uid()}/${CAT}`)]);
      assert.deepEqual(statuses(idle), [404]);
      assert.match(idle.text, /\r\nConnection: keep-alive\r\nKeep-Alive: timeout=0\r\n\r\n/);
      assert.ok(idle.closedByServer, 'closed after KEEP_ALIVE_TIMEOUT_MS (+1 s, as node:http)');
    });
  });

  describe(`HTTP lane with API keys: ${backend.name}`, () => {
    const dir = tempDir('feature-store-lane-keys-');
    const file = `${dir.path}/keys.json`;
    const [reader, limited] = [newSecret('lane-reader'), newSecret('lane-limited')];
    const keys: ApiKey[] = [
      { id: 'lane-reader', hash: reader.hash, scopes: ['read', 'write'], sources: ['prediction_service'], created_at: '2026-12-06T10:00:00.000Z' },
      { id: 'lane-limited', hash: limited.hash, scopes: ['read', 'write'], sources: ['prediction_service'], categories: [CAT], created_at: '2026-12-06T10:00:00.000Z' },
    ];
    writeFileSync(file, formatKeyFile({ version: 1, keys }));
    const service = serviceForSuite(backend, { API_KEYS_FILE: file, MAX_EVENT_LOOP_DELAY_MS: '0' });
    after(() => dir.remove());

    test('401 and 403 answers are node:http’s and Fastify’s bytes', async () => {
      const as = (secret: string): string => `Authorization: Bearer ${secret}\r\n`;
      const id = uid();
      const writeBody = (category: string) => JSON.stringify({ meta: { source: 'prediction_service' }, data: { entity_type: 'bright_uid', entity_value: id, category, features: { a: 1 } } });
      const requests = [
        get(`/api/v1/get/item/${id}/${CAT}`),
        get(`/api/v1/get/item/${id}/${CAT}`, as(reader.secret)),
        get(`/api/v1/get/item/${id}/${NCR}`, as(limited.secret)),
        post('/api/v1/items', writeBody(NCR), as(limited.secret)),
        post('/api/v1/items', writeBody(CAT), as(limited.secret)),
        post('/api/v1/items', writeBody(CAT), 'Authorization: Bearer nonsense\r\n'),
      ];
      const expected = [401, 404, 403, 403, 200, 401];
      for (const [i, request] of requests.entries()) {
        const lane = await rawExchange(service.runtime.url, [request + CLOSE.replace('\r\n\r\n', `\r\n${as(reader.secret)}\r\n`)]);
        const node = await rawExchangeOnNode(service.runtime.url, [request + CLOSE.replace('\r\n\r\n', `\r\n${as(reader.secret)}\r\n`)]);
        assert.deepEqual(statuses(lane), [expected[i], 404], lane.text);
        // The write that succeeded is written again on node's connection: the same answer.
        assert.equal(normal(lane.text), normal(node.text), request);
      }
    });
  });

  describe(`HTTP lane and server close: ${backend.name}`, () => {
    let instance: BackendInstance;
    before(async () => {
      instance = await backend.setup();
    });
    after(async () => {
      await instance.teardown();
    });
    const start = async (): Promise<Runtime> => startServer(testConfig(instance, { MAX_EVENT_LOOP_DELAY_MS: '0' }), { store: slowReads(await openStore(instance), 400) });
    /** Resolves with true once `runtime.close()` resolves, or false after 10 s (a hung close). */
    const closes = (runtime: Runtime): Promise<boolean> => Promise.race([runtime.close().then(() => true), sleep(10_000).then(() => false)]);

    test('an idle keep-alive lane connection is closed and close completes', async () => {
      const runtime = await start();
      const socket = await openSocket(runtime.url);
      socket.on('error', () => undefined);
      const answered = new Promise((resolve) => socket.once('data', resolve));
      socket.write(get(`/api/v1/get/item/${uid()}/${CAT}`));
      await answered;
      const ended = new Promise((resolve) => socket.once('close', resolve));
      assert.equal(await closes(runtime), true);
      await ended;
    });

    test('a lane request in flight is answered with Connection: close, then close completes', async () => {
      const runtime = await start();
      const socket = await openSocket(runtime.url);
      socket.on('error', () => undefined);
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      const ended = new Promise((resolve) => socket.once('close', resolve));
      socket.write(get(`/api/v1/get/item/slow-${uid()}/${CAT}`));
      await sleep(100);
      assert.equal(await closes(runtime), true);
      await ended;
      assert.match(text, /^HTTP\/1\.1 404 Not Found\r\n/);
      assert.match(text, /\r\nConnection: close\r\n\r\n\{"detail":"Item not found/);
    });
  });
}

for (const backend of BACKENDS) laneSuite(backend);

test('the lane reads only whole requests in its strict form', () => {
  const read = (text: string) => readLaneRequest(Buffer.from(text, 'latin1'), 16_384);
  const post = 'POST /api/v1/items HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nContent-Length:  2\r\nConnection: Close\r\n\r\n{}';
  const taken = read(`${post}GET`);
  assert.deepEqual(taken, { method: 'POST', url: '/api/v1/items', headers: { host: 'x', 'content-type': 'application/json', 'content-length': '2', connection: 'Close' }, close: true, body: '{}', size: post.length });
  assert.equal(read('GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Any: a\tb\r\n\r\n')?.url, '/a?b=c');
  for (const text of [
    'GET /a HTTP/1.1\r\nHost: x\r\n',
    'GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
    'GET /a HTTP/1.1\r\n\r\n',
    'GET /a HTTP/1.0\r\nHost: x\r\n\r\n',
    'GET /a HTTP/1.1 \r\nHost: x\r\n\r\n',
    'GET  /a HTTP/1.1\r\nHost: x\r\n\r\n',
    'get /a HTTP/1.1\r\nHost: x\r\n\r\n',
    'HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /a\n HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /a HTTP/1.1\r\nHost : x\r\n\r\n',
    'GET /a HTTP/1.1\r\nHost: x \r\n\r\n',
    'GET /a HTTP/1.1\r\nHost: x\nX: y\r\n\r\n',
    'GET /a HTTP/1.1\r\nHost: x\r\nX: y\r\n z\r\n\r\n',
    'GET /a HTTP/1.1\r\nHost: x\r\nX: \xe9\r\n\r\n',
    'GET /a HTTP/1.1\r\nHost: x\r\nNo-Colon\r\n\r\n',
    'GET /a HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n\r\n',
    'GET /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n',
    'GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
    'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{}',
    'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}',
    'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}',
    'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n{}',
    `GET /a HTTP/1.1\r\nHost: x\r\n${'X: y\r\n'.repeat(MAX_HEADERS)}\r\n`,
    `GET /a HTTP/1.1\r\nHost: x\r\nX: ${'y'.repeat(16_384)}\r\n\r\n`,
  ]) {
    assert.equal(read(text), undefined, JSON.stringify(text));
  }
});
