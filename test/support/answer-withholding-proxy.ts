import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * What happens to the answer of a withheld request: the server gets the whole request and
 * applies it, and then the client gets
 * - `never`: nothing (the connection stays open, silent, until the client gives up);
 * - `reset`: its connection closed as soon as the server's answer starts.
 */
export type Withholding = 'never' | 'reset';

export interface WithholdingProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /**
   * Withholds the answers of the next `count` requests of `operation` (e.g. `UpdateItem`);
   * with `containing`, only of those whose first chunk (headers, and the body when it came
   * with them) contains that text.
   */
  withhold(operation: string, how: Withholding, count?: number, containing?: string): void;
  /** Requests whose answers were withheld so far. */
  withheld(): number;
  /** Resolves once the server has answered every withheld request (so it has applied them). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A TCP proxy in front of a DynamoDB endpoint that passes requests through whole and can keep a
 * request's answer from the client after the server applied it: a slow answer or a broken
 * connection, as a real network gives them, with the server's side of the exchange untouched.
 * A request is recognized by its `X-Amz-Target` in the bytes passing through; once a connection
 * carried a withheld request, nothing more goes back to its client.
 */
export async function startWithholdingProxy(target: string): Promise<WithholdingProxy> {
  const upstream = new URL(target);
  const rules: { operation: string; how: Withholding; count: number; containing: string }[] = [];
  const sockets = new Set<Socket>();
  let withheld = 0;
  let answeredWithheld = 0;

  const server: Server = createServer((client) => {
    const to = createConnection({ host: upstream.hostname, port: Number(upstream.port) });
    sockets.add(client).add(to);
    let held: Withholding | undefined;
    let heldAnswered = false;
    client.on('data', (chunk: Buffer) => {
      if (held === undefined) {
        const text = chunk.toString('latin1');
        const rule = rules.find((r) => r.count > 0 && text.includes(`DynamoDB_20120810.${r.operation}\r\n`) && text.includes(r.containing));
        if (rule !== undefined) {
          rule.count--;
          withheld++;
          held = rule.how;
        }
      }
      to.write(chunk);
    });
    to.on('data', (chunk: Buffer) => {
      if (held !== undefined && !heldAnswered) {
        heldAnswered = true;
        answeredWithheld++;
      }
      if (held === 'reset') client.resetAndDestroy();
      else if (held === undefined) client.write(chunk);
    });
    const close = (): void => {
      client.destroy();
      to.destroy();
      sockets.delete(client);
      sockets.delete(to);
    };
    // The client going away ends the upstream connection too, after what it sent was passed on.
    client.on('close', () => to.end());
    to.on('close', () => {
      if (held === undefined) client.end();
    });
    client.on('error', close);
    to.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    withhold(operation, how, count = 1, containing = '') {
      rules.push({ operation, how, count, containing });
    },
    withheld: () => withheld,
    async settled() {
      while (answeredWithheld < withheld) await new Promise((r) => setTimeout(r, 20));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
