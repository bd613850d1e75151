import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestLog } from './request-log.js';

/** A test DynamoDB endpoint on loopback: its URL, the requests it counted, and an idempotent stop. */
export interface LoopbackEndpoint {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  requests: RequestLog;
  stop(): Promise<void>;
}

/** Listens on an ephemeral loopback port; `stop` closes the server, then runs `cleanup`. */
export async function serveOnLoopback(server: Server, requests: RequestLog, cleanup: () => void = () => undefined): Promise<LoopbackEndpoint> {
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
        cleanup();
      })),
  };
}
