import { spawn, type ChildProcess } from 'node:child_process';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { serveOnLoopback, type LoopbackEndpoint } from './loopback.js';
import { operationOf, RequestLog } from './request-log.js';

/**
 * moto_server, the DynamoDB emulator with transactions and Streams. `npm test` starts one and
 * passes it as `DYNAMODB_TEST_ENDPOINT`; a test file run on its own starts its own (once per
 * process, stopped when the process exits). A missing moto_server fails the test: it is never
 * a reason to skip.
 */
let started: Promise<string> | undefined;
let child: ChildProcess | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function spawnMoto(): Promise<string> {
  const port = await freePort();
  const proc = spawn('python3', [new URL('../../scripts/moto-server.py', import.meta.url).pathname, '127.0.0.1', String(port)], { stdio: 'ignore' });
  child = proc;
  const failed = new Promise<never>((_, reject) => {
    proc.once('error', (err) => reject(new Error(`moto could not be started (pip install "moto[server]"): ${err.message}`)));
    proc.once('exit', (code) => reject(new Error(`moto exited with code ${String(code)}`)));
  });
  failed.catch(() => undefined);
  process.once('exit', () => proc.kill('SIGTERM'));
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    const up = await Promise.race([
      fetch(endpoint).then(
        () => true,
        () => false,
      ),
      failed,
    ]);
    if (up) {
      proc.unref();
      return endpoint;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  proc.kill('SIGTERM');
  throw new Error('moto_server did not answer within 30 s');
}

export function motoEndpoint(): Promise<string> {
  const external = process.env.DYNAMODB_TEST_ENDPOINT;
  if (external !== undefined && external !== '') return Promise.resolve(external);
  return (started ??= spawnMoto());
}

/** Whether this process started the moto it uses (tests that stop moto need their own). */
export function ownsMoto(): boolean {
  return child !== undefined;
}

export type CountingProxy = LoopbackEndpoint;

/**
 * An HTTP proxy in front of `target` that counts DynamoDB requests by operation as they pass:
 * the real wire traffic, the SDK's retries included. moto keeps no such count itself.
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const requests = new RequestLog();
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.record(operationOf(req));
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  return serveOnLoopback(server, requests, () => agent.destroy());
}
