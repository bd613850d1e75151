import { createRequire } from 'node:module';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** dynalite ships no types: the part of its API used here. */
type DynaliteFactory = (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

/**
 * DynamoDB requests seen by one server, by operation (`GetItem`, `UpdateItem`, …), counted where
 * they arrive: the real wire traffic, retries included, nothing mocked.
 */
export class RequestLog {
  readonly #counts = new Map<string, number>();

  record(operation: string): void {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
  }

  /** Counts by operation since the last reset, e.g. `{ UpdateItem: 1 }`. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  total(): number {
    let n = 0;
    for (const c of this.#counts.values()) n += c;
    return n;
  }

  reset(): void {
    this.#counts.clear();
  }

  /** The counts of the requests `fn` causes. */
  async during(fn: () => Promise<unknown>): Promise<Record<string, number>> {
    this.reset();
    await fn();
    return this.counts();
  }
}

export interface DynaliteServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  requests: RequestLog;
  stop(): Promise<void>;
}

function operationOf(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  const value = Array.isArray(target) ? target[0] : target;
  return value?.split('.').pop() ?? 'unknown';
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
