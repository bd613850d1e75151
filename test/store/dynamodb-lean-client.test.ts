import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net, { type AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { ConnectionPool } from '../../src/store/dynamodb/connection-pool.js';
import { exchange, mayHaveBeenApplied, type HttpAgents } from '../../src/store/dynamodb/http-exchange.js';
import { loadSdkParts, type SdkHttpRequest } from '../../src/store/dynamodb/sdk-parts.js';

/**
 * The lean HTTP/1.1 client (http-exchange.ts, connection-pool.ts) against a scripted TCP
 * server: keep-alive reuse, the pool's bound, `Connection: close`, the server's idle close and
 * its Keep-Alive hint, an answer before the request was written whole, a close during the
 * answer, the body's own time limit, and which failures may have been applied.
 */
type Script = (socket: net.Socket, request: string, index: number) => void;

const sdk = loadSdkParts();
const OK = 'HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}';

let server: net.Server;
let port: number;
let script: Script;
let connections: net.Socket[] = [];
let requests = 0;
let pool: ConnectionPool;

function agents(timeoutMs = 1000): HttpAgents {
  return { pool, timeoutMs };
}

function request(body = '{}'): SdkHttpRequest {
  return new sdk.HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path: '/',
    query: {},
    headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/x-amz-json-1.0', 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  assert.fail('the exchange succeeded');
}

describe('DynamoDB lean HTTP client', () => {
  before(async () => {
    server = net.createServer((socket) => {
      connections.push(socket);
      let pending = '';
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        pending += chunk.toString('latin1');
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(pending)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const whole = pending.slice(0, end + 4 + length);
        pending = pending.slice(whole.length);
        script(socket, whole, requests++);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(() => {
    pool.close();
    for (const c of connections) c.destroy();
    connections = [];
    requests = 0;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('requests reuse one keep-alive connection; the request arrives whole with its headers', async () => {
    pool = new ConnectionPool(4, 15_000);
    const seen: string[] = [];
    script = (socket, req) => {
      seen.push(req);
      socket.write(OK);
    };
    for (let i = 0; i < 3; i++) {
      const response = await exchange(request(`{"i":${i}}`), agents(), sdk);
      assert.equal(response.statusCode, 200);
      assert.equal((response.body as Buffer).toString(), '{}');
      assert.equal(response.headers['content-type'], 'application/x-amz-json-1.0');
    }
    assert.equal(connections.length, 1);
    assert.match(seen[2] as string, /^POST \/ HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\ncontent-type: application\/x-amz-json-1\.0\r\ncontent-length: 7\r\n\r\n\{"i":2\}$/);
  });

  test('at most maxSockets connections per endpoint; further requests wait for a free one', async () => {
    pool = new ConnectionPool(2, 15_000);
    script = (socket) => setTimeout(() => socket.write(OK), 20);
    const responses = await Promise.all(Array.from({ length: 6 }, () => exchange(request(), agents(), sdk)));
    assert.deepEqual(responses.map((r) => r.statusCode), [200, 200, 200, 200, 200, 200]);
    assert.equal(connections.length, 2);
  });

  test('Connection: close is honoured: the next request goes on a new connection', async () => {
    pool = new ConnectionPool(4, 15_000);
    script = (socket, _req, i) => socket.write(i === 0 ? OK.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n') : OK);
    await exchange(request(), agents(), sdk);
    await exchange(request(), agents(), sdk);
    assert.equal(connections.length, 2);
  });

  test('a connection the server closed while idle is not used again', async () => {
    pool = new ConnectionPool(4, 15_000);
    script = (socket) => socket.write(OK);
    await exchange(request(), agents(), sdk);
    (connections[0] as net.Socket).end();
    await sleep(50);
    const response = await exchange(request(), agents(), sdk);
    assert.equal(response.statusCode, 200);
    assert.equal(connections.length, 2);
  });

  test("idle connections close a second before the server's Keep-Alive hint; a hint of 1 s keeps none", async () => {
    pool = new ConnectionPool(4, 15_000);
    script = (socket, _req, i) => socket.write(OK.replace('\r\n\r\n', `\r\nKeep-Alive: timeout=${i === 0 ? 1 : 2}\r\n\r\n`));
    await exchange(request(), agents(), sdk);
    await exchange(request(), agents(), sdk);
    assert.equal(connections.length, 2, 'timeout=1: not kept');
    const closed = new Promise<number>((resolve) => {
      const from = Date.now();
      (connections[1] as net.Socket).on('close', () => resolve(Date.now() - from));
    });
    const idleFor = await closed;
    assert.ok(idleFor >= 900 && idleFor < 10_000, `closed after ${idleFor} ms`);
  });

  test('an answer before the request was written whole is returned; the connection is not reused', async () => {
    pool = new ConnectionPool(4, 15_000);
    const big = `{"a":"${'x'.repeat(8 * 1024 * 1024)}"}`;
    const early = net.createServer((socket) => {
      connections.push(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.write('HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n');
        socket.pause();
      });
    });
    await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
    const req = request(big);
    req.port = (early.address() as AddressInfo).port;
    const response = await exchange(req, agents(), sdk);
    assert.equal(response.statusCode, 413);
    for (const c of connections) c.destroy();
    await new Promise<void>((resolve) => early.close(() => resolve()));
    assert.equal(pool['idle'].get(`http://127.0.0.1:${req.port}`)?.length ?? 0, 0);
  });

  test('a close during the answer is a TimeoutError (ECONNRESET) that may have been applied', async () => {
    pool = new ConnectionPool(4, 15_000);
    script = (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}');
    const err = await failure(exchange(request(), agents(), sdk));
    assert.equal(err.code, 'ECONNRESET');
    assert.equal(err.name, 'TimeoutError');
    assert.equal(mayHaveBeenApplied(err), true);
  });

  test('a close without an answer after the whole request was sent may have been applied', async () => {
    pool = new ConnectionPool(4, 15_000);
    script = (socket) => socket.destroy();
    const err = await failure(exchange(request(), agents(), sdk));
    assert.equal(err.code, 'ECONNRESET');
    assert.equal(mayHaveBeenApplied(err), true);
  });

  test('a refused connection was not applied', async () => {
    pool = new ConnectionPool(4, 15_000);
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const req = request();
    req.port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(exchange(req, agents(), sdk));
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(mayHaveBeenApplied(err), false);
  });

  test('the body has its own time limit after the headers', async () => {
    pool = new ConnectionPool(4, 15_000);
    script = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n');
      setTimeout(() => socket.write('{"a"'), 150);
    };
    const from = Date.now();
    const err = await failure(exchange(request(), agents(200), sdk));
    const took = Date.now() - from;
    assert.equal(err.name, 'TimeoutError');
    assert.equal(err.code, 'ETIMEDOUT');
    assert.match(err.message, /response body/);
    assert.ok(took >= 190, `failed after ${took} ms`);
    assert.equal(mayHaveBeenApplied(err), true);
  });
});

/**
 * https endpoints (DynamoDB itself): the same client over TLS, against a TLS server whose
 * self-signed certificate (for 127.0.0.1) is made by openssl when the test starts.
 */
describe('DynamoDB lean HTTP client over TLS', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let tlsServer: tls.Server;
  let tlsPort: number;
  let accepted = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lean-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
    tlsServer = tls.createServer({ cert, key }, (socket) => {
      accepted++;
      socket.on('error', () => undefined);
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        const end = pending.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(pending)?.[1] ?? 0);
        if (end < 0 || pending.length < end + 4 + length) return;
        const body = pending.slice(end + 4, end + 4 + length);
        pending = pending.slice(end + 4 + length);
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      });
    });
    tlsServer.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    tlsPort = (tlsServer.address() as AddressInfo).port;
  });
  after(async () => {
    pool.close();
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function secure(body: string): SdkHttpRequest {
    const req = request(body);
    req.protocol = 'https:';
    req.port = tlsPort;
    return req;
  }

  test('requests go over TLS on one keep-alive connection', async () => {
    pool = new ConnectionPool(4, 15_000, { ca: cert });
    for (let i = 0; i < 3; i++) {
      const response = await exchange(secure(`{"i":${i}}`), agents(), sdk);
      assert.equal(response.statusCode, 200);
      assert.equal((response.body as Buffer).toString(), `{"i":${i}}`);
    }
    assert.equal(accepted, 1);
  });

  test('a certificate that is not trusted fails the request before it was sent (not applied)', async () => {
    pool = new ConnectionPool(4, 15_000);
    const err = await failure(exchange(secure('{}'), agents(), sdk));
    assert.equal(err.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(mayHaveBeenApplied(err), false);
  });
});
