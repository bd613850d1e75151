import { connect, type Socket } from 'node:net';

/** What came back on a raw connection: the bytes as text, and whether the server closed it. */
export interface RawExchange {
  text: string;
  /** The status code of the first response line, if any. */
  status: number | undefined;
  /** The body after the first blank line. */
  body: string;
  closedByServer: boolean;
}

/** Opens a TCP connection to an `http://host:port` base URL. */
export function openSocket(baseUrl: string): Promise<Socket> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Writes `chunks` (each after `gapMs`) on a fresh connection and reads until the server closes it
 * or `waitMs` passes; for requests no HTTP client would send (garbage, slow or incomplete ones).
 */
export async function rawExchange(baseUrl: string, chunks: string[], options: { gapMs?: number; waitMs?: number } = {}): Promise<RawExchange> {
  return exchangeOn(await openSocket(baseUrl), chunks, options);
}

/** A request the HTTP lane (src/http/lane.ts) does not take: it hands the connection to node:http. */
const HAND_OVER = 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n';

/**
 * `rawExchange` on a connection node:http reads, as without the lane: a health check goes
 * first (the lane hands the connection over on it), and its answer is left out of the result.
 */
export async function rawExchangeOnNode(baseUrl: string, chunks: string[], options: { gapMs?: number; waitMs?: number } = {}): Promise<RawExchange> {
  const socket = await openSocket(baseUrl);
  let first = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      first += d.toString('latin1');
      const split = first.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)\r\n/i.exec(first);
      if (split === -1 || length === null || first.length < split + 4 + Number(length[1])) return;
      socket.removeListener('data', onData);
      resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(HAND_OVER);
  });
  return exchangeOn(socket, chunks, options);
}

async function exchangeOn(socket: Socket, chunks: string[], options: { gapMs?: number; waitMs?: number }): Promise<RawExchange> {
  let text = '';
  let closedByServer = false;
  let ours = false;
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => {
    const done = (): void => {
      closedByServer ||= !ours;
      resolve();
    };
    socket.once('close', done);
    socket.once('end', done);
  });
  for (const [i, chunk] of chunks.entries()) {
    if (i > 0 && options.gapMs !== undefined) await new Promise((r) => setTimeout(r, options.gapMs));
    if (socket.destroyed) break;
    socket.write(chunk);
  }
  const timer = new Promise<void>((resolve) => setTimeout(resolve, options.waitMs ?? 5000).unref());
  await Promise.race([closed, timer]);
  ours = true;
  socket.destroy();
  const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
  const split = text.indexOf('\r\n\r\n');
  return { text, status: match ? Number(match[1]) : undefined, body: split === -1 ? '' : text.slice(split + 4), closedByServer };
}
