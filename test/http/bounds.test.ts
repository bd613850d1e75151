import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { formatKeyFile, newSecret, type ApiKey } from '../../src/auth/api-keys.js';
import { startServer, type Runtime } from '../../src/server.js';
import { openStore, testConfig, type BackendInstance, type TestBackend } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { tempDir } from '../support/kafka-service.js';
import { openSocket, rawExchange } from '../support/raw-http.js';
import { client } from '../support/service.js';
import { sleep, slowReads } from '../support/slow-store.js';
import { serviceForSuite } from '../support/suite-service.js';

const CAT = 'd0_unauth_features';
const TIMEOUT_ERROR = '{"detail":"Request Timeout: the request was not received in time","code":"REQUEST_TIMEOUT"}';

/** Small bounds so that slow clients meet them in well under a second. */
const SMALL_LIMITS = {
  HEADERS_TIMEOUT_MS: '300',
  BODY_TIMEOUT_MS: '600',
  REQUEST_TIMEOUT_MS: '1000',
  KEEP_ALIVE_TIMEOUT_MS: '300',
  MAX_EVENT_LOOP_DELAY_MS: '0',
};

const REQUEST = 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n';

function boundsSuite(backend: TestBackend): void {
  describe(`time bounds: ${backend.name}`, () => {
    let instance: BackendInstance;
    let runtime: Runtime;

    before(async () => {
      instance = await backend.setup();
      runtime = await startServer(testConfig(instance, SMALL_LIMITS), { store: slowReads(await openStore(instance), 1500) });
    });
    after(async () => {
      await runtime.close();
      await instance.teardown();
    });

    test('a connection that sends nothing, or headers too slowly, gets 408 and is closed', async () => {
      const silent = await rawExchange(runtime.url, []);
      assert.equal(silent.status, 408, silent.text);
      assert.equal(silent.body, TIMEOUT_ERROR);
      assert.ok(silent.closedByServer, 'silent.closedByServer');
      const slow = await rawExchange(runtime.url, ['GET /api/v1/health HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'X-D: 4\r\n'], { gapMs: 100 });
      assert.equal(slow.status, 408, slow.text);
      assert.ok(slow.closedByServer, 'slow.closedByServer');
    });

    test('a body sent too slowly gets 408 and is closed; nothing is stored', async () => {
      const body = `{"meta":{"source":"prediction_service"},"data":{"entity_type":"bright_uid","entity_value":"body-timeout","category":"${CAT}","features":{"a":1}}}`;
      const head = `POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      const res = await rawExchange(runtime.url, [head, ...(body.match(/.{1,10}/g) ?? [])], { gapMs: 100 });
      assert.equal(res.status, 408, res.text);
      assert.equal(res.body, TIMEOUT_ERROR);
      assert.ok(res.closedByServer, 'res.closedByServer');
      assert.equal((await client(runtime.url).get(`/api/v1/get/item/body-timeout/${CAT}`)).status, 404);
    });

    test('a request not answered within REQUEST_TIMEOUT_MS is 503 with Retry-After', async () => {
      const http = client(runtime.url);
      const res = await http.get(`/api/v1/get/item/slow-read/${CAT}`);
      assert.equal(res.status, 503, res.text);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.equal(res.text, '{"detail":"The request was not answered in time, retry later","code":"RESPONSE_TIMEOUT"}');
      // Let the held read finish before the store closes.
      await sleep(700);
      assert.equal((await http.get(`/api/v1/get/item/fast/${CAT}`)).status, 404);
    });

    test('an idle keep-alive connection is closed by the server', async () => {
      const res = await rawExchange(runtime.url, [REQUEST]);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.closedByServer, 'res.closedByServer');
    });
  });

  describe(`connection bound: ${backend.name}`, () => {
    const service = serviceForSuite(backend, { MAX_CONNECTIONS: '3', MAX_EVENT_LOOP_DELAY_MS: '0' });

    test('over MAX_CONNECTIONS a connection is dropped and idle keep-alive connections are reclaimed', async () => {
      const idle = await Promise.all(
        [1, 2, 3].map(async () => {
          const socket = await openSocket(service.runtime.url);
          socket.on('error', () => undefined);
          const answered = new Promise((resolve) => socket.once('data', resolve));
          socket.write(REQUEST);
          await answered;
          return socket;
        }),
      );
      try {
        const dropped = await rawExchange(service.runtime.url, [REQUEST]);
        assert.equal(dropped.text, '', 'the connection over the limit gets no answer');
        assert.ok(dropped.closedByServer, 'dropped.closedByServer');
        await sleep(50);
        assert.deepEqual(
          idle.map((s) => s.destroyed || s.readableEnded),
          [true, true, true],
          'the idle connections were closed to make room',
        );
        const next = await rawExchange(service.runtime.url, [REQUEST.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')]);
        assert.equal(next.status, 200, next.text);
      } finally {
        for (const s of idle) s.destroy();
      }
    });
  });

  describe(`rate limit: ${backend.name}`, () => {
    const service = serviceForSuite(backend, { RATE_LIMIT_PER_SECOND: '5' });

    test('over RATE_LIMIT_PER_SECOND a client gets 429 with Retry-After; health is not limited', async () => {
      const http = client(service.runtime.url);
      const burst = await Promise.all(Array.from({ length: 20 }, () => http.get(`/api/v1/get/item/rate-probe/${CAT}`)));
      const limited = burst.filter((r) => r.status === 429);
      assert.ok(limited.length >= 1, 'some of the burst is refused');
      assert.ok(burst.every((r) => r.status === 429 || r.status === 404), 'burst.every((r) => r.status === 429 || r.status === 404)');
      const first = limited[0] as (typeof limited)[number];
      assert.ok(Number(first.headers.get('retry-after')) >= 1, `Number(first.headers.get('retry-after')) >= 1`);
      assert.deepEqual(first.json, {
        detail: (first.json as { detail: string }).detail,
        code: 'RATE_LIMITED',
      });
      assert.match((first.json as { detail: string }).detail, /^Rate limit exceeded: at most 5 requests per second per client; retry in/);
      const health = await Promise.all(Array.from({ length: 10 }, () => http.get('/api/v1/health')));
      assert.ok(health.every((r) => r.status === 200), 'health.every((r) => r.status === 200)');
    });
  });

  describe(`rate limit per API key: ${backend.name}`, () => {
    const dir = tempDir('feature-store-rate-');
    const file = `${dir.path}/keys.json`;
    const keys = ['rate-a', 'rate-b'].map((id) => {
      const { secret, hash } = newSecret(id);
      const key: ApiKey = { id, hash, scopes: ['read'], created_at: '2026-12-06T10:00:00.000Z' };
      return { key, secret };
    });
    writeFileSync(file, formatKeyFile({ version: 1, keys: keys.map((k) => k.key) }));
    const service = serviceForSuite(backend, { API_KEYS_FILE: file, RATE_LIMIT_PER_SECOND: '5' });
    after(() => dir.remove());

    test('each key has its own budget; a 401 before the limit carries the request id and headers', async () => {
      const [a, b] = keys.map((k) => ({ authorization: `Bearer ${k.secret}` }));
      const path = `/api/v1/get/item/rate-key-probe/${CAT}`;
      const burst = await Promise.all(Array.from({ length: 20 }, () => service.http.get(path, a)));
      assert.ok(burst.some((r) => r.status === 429), 'the first key is limited');
      assert.equal((await service.http.get(path, b)).status, 404, 'the second key is not');
      const anonymous = await service.http.get(path);
      assert.equal(anonymous.status, 401);
      assert.ok(anonymous.headers.get('x-request-id'), `anonymous.headers.get('x-request-id')`);
      assert.equal(anonymous.headers.get('cache-control'), 'no-store');
    });
  });

  describe(`overload: ${backend.name}`, () => {
    const service = serviceForSuite(backend, { MAX_EVENT_LOOP_DELAY_MS: '200' });

    test('while the event loop lags, feature requests are 503 with Retry-After; health still answers; then it recovers', async () => {
      const http = client(service.runtime.url);
      const path = `/api/v1/get/item/overload-probe/${CAT}`;
      assert.equal((await http.get(path)).status, 404);
      // The server runs in this process: blocking here is the server's event loop lagging.
      const until = Date.now() + 600;
      while (Date.now() < until) {
        // busy
      }
      await sleep(30);
      const refused = await http.get(path);
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(refused.text, '{"detail":"The service is overloaded, retry later","code":"SERVICE_OVERLOADED"}');
      assert.equal((await http.get('/api/v1/health')).status, 200);
      let status = refused.status;
      for (let i = 0; i < 40 && status === 503; i++) {
        await sleep(250);
        status = (await http.get(path)).status;
      }
      assert.equal(status, 404, 'served again once the loop keeps up');
    });
  });
}

for (const backend of BACKENDS) boundsSuite(backend);
