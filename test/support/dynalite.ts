import { createRequire } from 'node:module';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { operationOf, RequestLog } from './request-log.js';

/** dynalite ships no types: the part of its API used here. */
type DynaliteFactory = (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

export interface DynaliteServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  requests: RequestLog;
  stop(): Promise<void>;
}

/** An in-memory dynalite on 127.0.0.1 with an ephemeral port; tables become ACTIVE at once. */
export async function startDynalite(): Promise<DynaliteServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const requests = new RequestLog();
  server.on('request', (req: IncomingMessage) => requests.record(operationOf(req)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets of clients that were not destroyed would hold close() open.
        server.closeAllConnections();
      })),
  };
}
