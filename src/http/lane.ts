import { maxHeaderSize as defaultMaxHeaderSize, STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastTake, RequestHead } from './fast-answer.js';
import { readLaneRequest } from './lane-request.js';
import type { ResponseSink } from './response-sink.js';

/**
 * The lane: HTTP/1.1 read and written on the connection itself for the requests the fast paths
 * (fast-read.ts, fast-posts.ts) take, without node:http's IncomingMessage and ServerResponse,
 * whose per-request machinery cost about as much CPU as the rest of a read.
 *
 * It sits in front of node:http's own `'connection'` listener. For each request that is whole
 * in what has arrived (lane-request.ts) and that a fast path takes, it answers it itself; on the
 * first request it cannot read or that no fast path takes, it hands the connection over for
 * good: the unread bytes go back into the socket (`unshift`) and node's listener gets the
 * socket, as if it had just connected. Node's parser, timeouts and error answers then apply.
 *
 * One request at a time: while an answer is pending (DynamoDB), reading pauses and pipelined
 * requests wait, so answers go out in request order and memory stays bounded. Timeouts, as
 * node:http has them: `headersTimeout` until the first byte (then the 408 of `clientError`), the
 * server's socket timeout while answering, `keepAliveTimeout` + 1 s between requests. Idle lane
 * connections close with `closeIdleConnections` (server close, MAX_CONNECTIONS drops).
 */

export type LaneTake = (req: RequestHead, sink: ResponseSink) => FastTake;

/** What node:http adds to its idle timeout over the advertised `Keep-Alive: timeout` (Node 20). */
const KEEP_ALIVE_BUFFER_MS = 1000;

let dateCache: string | undefined;
/** `Date` as node:http writes it: computed at most once a second. */
function utcDate(): string {
  if (dateCache === undefined) {
    const now = new Date();
    dateCache = now.toUTCString();
    setTimeout(() => (dateCache = undefined), 1000 - now.getMilliseconds()).unref();
  }
  return dateCache;
}

type ConnectionListener = (this: Server, socket: Socket) => void;

/**
 * Puts the lane in front of `server`'s node:http connection listener. `take` is read per
 * connection: undefined (fast paths off) gives the connection to node:http at once. `closing`
 * is true once the application is closing: answers then say `Connection: close`.
 */
export function installLane(server: Server, take: () => LaneTake | undefined, closing: () => boolean): void {
  // The one node:http's Server constructor adds (`connectionListener` in lib/_http_server.js).
  const node = server.listeners('connection').find((listener) => listener.name === 'connectionListener') as ConnectionListener | undefined;
  if (node === undefined) throw new Error('the lane needs node:http’s connection listener');
  server.removeListener('connection', node);
  // Node's own limit on a request head (the server's option, else the process-wide one).
  const maxHeaderSize = (server as Server & { maxHeaderSize?: number }).maxHeaderSize ?? defaultMaxHeaderSize;
  const lane: Lane = { server, node, closing, maxHeaderSize, connections: new Set() };
  server.prependListener('connection', (socket: Socket) => {
    const current = take();
    if (current === undefined || (server.maxRequestsPerSocket ?? 0) > 0) node.call(server, socket);
    else new LaneConnection(lane, current, socket);
  });
  // node:http's own close calls these for its connections; the lane's idle ones go with them.
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    closeIdle();
    for (const connection of lane.connections) connection.closeIfIdle();
  };
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAll();
    for (const connection of lane.connections) connection.socket.destroy();
  };
}

interface Lane {
  readonly server: Server;
  readonly node: ConnectionListener;
  readonly closing: () => boolean;
  readonly maxHeaderSize: number;
  readonly connections: Set<LaneConnection>;
}

/** The timeout in force: before the first byte, while answering, between requests. */
type Phase = 'fresh' | 'busy' | 'idle';

class LaneConnection {
  /** Bytes received and not yet answered or handed over. */
  #buffer: Buffer | undefined;
  /** The request being answered, while its answer is pending. */
  #inFlight: LaneSink | undefined;
  #answering = false;
  /** Waiting for the client to read what was written (the socket's `drain`) before answering more. */
  #blocked = false;
  #phase: Phase = 'fresh';

  constructor(
    readonly lane: Lane,
    readonly take: LaneTake,
    readonly socket: Socket,
  ) {
    lane.connections.add(this);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('timeout', this.#onTimeout);
    socket.setTimeout(lane.server.headersTimeout);
  }

  /** Whether an answer can still be written on this connection. */
  get open(): boolean {
    return this.lane.connections.has(this) && !this.socket.destroyed;
  }

  closeIfIdle(): void {
    if (this.#inFlight === undefined && !this.#blocked) this.socket.destroy();
  }

  /**
   * Writes `sink`'s answer, then goes on with the requests that wait. An ASCII body (its UTF-8
   * length is its length) goes out as latin1, the same bytes without UTF-8 encoding: the head
   * is ASCII too (header values are checked or built from ASCII).
   */
  respond(sink: LaneSink, status: number, headers: string, body: string, ascii: boolean): void {
    const { socket, lane } = this;
    const close = sink.close || lane.closing();
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n${headers}Date: ${utcDate()}\r\n${close ? 'Connection: close\r\n' : keepAlive(lane.server)}\r\n${body}`, ascii ? 'latin1' : 'utf8');
    this.#inFlight = undefined;
    if (close) return this.#end();
    if (this.#answering) return;
    this.#setPhase('idle');
    socket.resume();
    this.#answerBuffered();
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = this.#buffer === undefined ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#inFlight === undefined && !this.#blocked) this.#answerBuffered();
  };

  readonly #onDrain = (): void => {
    this.#blocked = false;
    if (!this.open) return;
    this.socket.resume();
    this.#answerBuffered();
  };

  /** Answers the whole requests in the buffer in order, until one is pending or one is not the lane's. */
  #answerBuffered(): void {
    const { socket, lane } = this;
    this.#answering = true;
    try {
      while (this.#buffer !== undefined && this.open) {
        if (socket.writableNeedDrain) {
          // As node:http: a client that does not read its answers is not read from either.
          this.#blocked = true;
          socket.pause();
          socket.once('drain', this.#onDrain);
          return;
        }
        const buffer = this.#buffer;
        const req = readLaneRequest(buffer, lane.maxHeaderSize);
        if (req === undefined) return this.#handOver();
        // In flight before the fast path sees it: a read on the calling thread answers inside `take`.
        const sink = new LaneSink(this, req.close);
        this.#inFlight = sink;
        const taken = this.take(req, sink);
        if (taken === undefined) {
          this.#inFlight = undefined;
          return this.#handOver();
        }
        this.#buffer = req.size === buffer.length ? undefined : buffer.subarray(req.size);
        if (taken !== 'answered') taken.complete(req.body);
        if (this.#inFlight !== undefined) {
          // Pending: pipelined requests wait, unread, until it is written.
          socket.pause();
          this.#setPhase('busy');
          return;
        }
      }
      if (this.open) this.#setPhase('idle');
    } finally {
      this.#answering = false;
    }
  }

  #setPhase(phase: Phase): void {
    if (this.#phase === phase) return;
    this.#phase = phase;
    const { server } = this.lane;
    if (phase === 'busy') this.socket.setTimeout(server.timeout);
    else this.socket.setTimeout(server.keepAliveTimeout > 0 ? server.keepAliveTimeout + KEEP_ALIVE_BUFFER_MS : server.timeout);
  }

  /** Gives the connection, with the bytes not yet answered, to node:http for the rest of its life. */
  #handOver(): void {
    const { socket, lane } = this;
    this.#detach();
    socket.pause();
    socket.setTimeout(0);
    if (this.#buffer !== undefined) socket.unshift(this.#buffer);
    this.#buffer = undefined;
    lane.node.call(lane.server, socket);
    socket.resume();
  }

  #detach(): void {
    const { socket } = this;
    this.lane.connections.delete(this);
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('error', this.#onError);
    socket.removeListener('close', this.#onClose);
    socket.removeListener('timeout', this.#onTimeout);
    socket.removeListener('drain', this.#onDrain);
  }

  /** Ends the connection once what was written is sent (node:http's `destroySoon`). */
  #end(): void {
    const { socket } = this;
    this.#detach();
    socket.on('error', () => undefined);
    socket.end(() => socket.destroy());
  }

  /** The client ended its side: as node:http (without `httpAllowHalfOpen`), end ours. */
  readonly #onEnd = (): void => {
    this.#end();
  };

  /** A reset or other socket error ends the connection quietly (the socket is destroyed). */
  readonly #onError = (): void => undefined;

  readonly #onClose = (): void => {
    this.lane.connections.delete(this);
  };

  readonly #onTimeout = (): void => {
    const { server } = this.lane;
    if (this.#phase === 'fresh') {
      // As node:http's headersTimeout: its clientError (the 408 answer), or a plain close.
      const error = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
      this.#detach();
      this.socket.on('error', () => undefined);
      if (!server.emit('clientError', error, this.socket)) this.socket.destroy();
      return;
    }
    if (!server.emit('timeout', this.socket)) this.socket.destroy();
  };
}

/** `Connection`/`Keep-Alive` of a kept-alive answer, as node:http prints them. */
function keepAlive(server: Server): string {
  return server.keepAliveTimeout > 0 ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(server.keepAliveTimeout / 1000)}\r\n` : 'Connection: keep-alive\r\n';
}

/** One request's answer on a lane connection: headers collected in order, written once. */
class LaneSink implements ResponseSink {
  #headers = '';
  #done = false;

  constructor(
    readonly connection: LaneConnection,
    readonly close: boolean,
  ) {}

  open(): boolean {
    return !this.#done && this.connection.open;
  }

  header(name: string, value: string): void {
    this.#headers += `${name}: ${value}\r\n`;
  }

  end(status: number, body: string, bodyBytes: number): void {
    this.#done = true;
    this.connection.respond(this, status, this.#headers, body, bodyBytes === body.length);
  }
}
