import { createRequire } from 'node:module';
import type { IncomingMessage, Server } from 'node:http';
import { serveOnLoopback, type LoopbackEndpoint } from './loopback.js';
import { operationOf, RequestLog } from './request-log.js';

/** dynalite ships no types: the part of its API used here. */
type DynaliteFactory = (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

export type DynaliteServer = LoopbackEndpoint;

/** An in-memory dynalite on 127.0.0.1 with an ephemeral port; tables become ACTIVE at once. */
export async function startDynalite(): Promise<DynaliteServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const requests = new RequestLog();
  server.on('request', (req: IncomingMessage) => requests.record(operationOf(req)));
  return serveOnLoopback(server, requests);
}
