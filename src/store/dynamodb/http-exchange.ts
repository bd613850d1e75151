import type { Connection, ConnectionPool } from './connection-pool.js';
import { ResponseParser } from './response-parser.js';
import type { SdkHttpRequest, SdkHttpResponse, SdkParts } from './sdk-parts.js';

/** The record path's keep-alive connections (client.ts) and the time limit of each wait. */
export interface HttpAgents {
  pool: ConnectionPool;
  timeoutMs: number;
}

const TIMEOUT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * Failed exchanges whose request was handed to the socket whole, without a complete answer (a
 * time limit passed, or the connection broke): the server may have applied the request. Not
 * among them: a request that failed before its last byte was handed over (no connection, or it
 * broke while sending), which the server cannot have applied. A reset of a reused keep-alive
 * connection counts as possibly applied too: it is what a server closing an idle connection gives,
 * but also what a network device dropping a connection after the server applied the request
 * gives, and the two cannot be told apart.
 */
const unanswered = new WeakSet<object>();

/**
 * Whether `err` is an exchange that failed after its whole request was sent: the server may have
 * applied the request and answered too late, so replaying a request that is not idempotent could
 * apply it twice. False for every other error (an error response is an answer).
 */
export function mayHaveBeenApplied(err: unknown): boolean {
  return typeof err === 'object' && err !== null && unanswered.has(err);
}

function limitPassed(what: string, ms: number): Error & { code: string } {
  return Object.assign(new Error(`DynamoDB did not send ${what} within ${ms} ms`), { code: 'ETIMEDOUT' });
}

/** Rejects with `err`, marked as possibly applied when its request was sent whole, and named as the SDK's handler names it. */
function rejectAs(reject: (err: Error) => void, err: Error & { code?: string }, sent: boolean): void {
  if (sent) unanswered.add(err);
  reject(TIMEOUT_CODES.has(err.code ?? '') ? Object.assign(err, { name: 'TimeoutError' }) : err);
}

/** An IPv6 literal comes bracketed from the endpoint URL; sockets take it bare. */
function bareHost(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

/**
 * One signed request on the pool's keep-alive connections: the response with its whole body (a
 * Buffer), as the SDK's response class (its error deserializer and clock-skew handler read that).
 * The request is written in one `write` (head and body in one Buffer), the response read by
 * `ResponseParser`; the connection goes back to the pool only when the response was read whole,
 * the request's last byte was handed over, and neither side asked to close.
 *
 * Time limits: `timeoutMs` until the response headers (waiting for a connection, connecting, the
 * server's time to apply and answer), where the SDK's handler stops its request timer too, then
 * `timeoutMs` again for the body, so that no exchange waits without a timer. Connection errors
 * come back as Node gives them, those the SDK's handler calls timeouts (ECONNRESET, EPIPE,
 * ETIMEDOUT) named `TimeoutError` as it names them; a close before the answer is whole is an
 * ECONNRESET (as node:http gives it); a limit passed is an ETIMEDOUT `TimeoutError`. Every failure
 * destroys the connection (one with a late answer still on its way must not serve the next
 * request). A connection that breaks before the answer after the whole request was handed over (a
 * reused one closed by the server as the request went out included) may have had its request
 * applied (`mayHaveBeenApplied`).
 */
export function exchange(request: SdkHttpRequest, agents: HttpAgents, sdk: SdkParts): Promise<SdkHttpResponse> {
  return new Promise((resolve, reject) => {
    const secure = request.protocol === 'https:';
    const endpoint = { host: bareHost(request.hostname), port: request.port ?? (secure ? 443 : 80), secure };
    const wire = serialize(request);
    const parser = new ResponseParser();
    let connection: Connection | undefined;
    let sent = false;
    let settled = false;
    let timer = setTimeout(() => fail(limitPassed('an answer', agents.timeoutMs)), agents.timeoutMs);
    function fail(err: Error & { code?: string }): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      withdraw();
      if (connection !== undefined) {
        connection.owner = undefined;
        connection.destroy();
      }
      rejectAs(reject, err, sent);
    }
    function done(reusable: boolean): void {
      settled = true;
      clearTimeout(timer);
      const held = connection as Connection;
      if (reusable && sent && parser.keepAlive && !parser.excess) agents.pool.release(held, keepAliveHint(parser.headers['keep-alive']));
      else {
        held.owner = undefined;
        held.destroy();
      }
      resolve(new sdk.HttpResponse({ statusCode: parser.statusCode, headers: parser.headers, body: parser.bodyBuffer() }));
    }
    const withdraw = agents.pool.acquire(endpoint, (held) => {
      if (settled) {
        agents.pool.release(held, undefined);
        return;
      }
      connection = held;
      held.owner = {
        data(chunk) {
          if (settled) return;
          const hadHead = parser.headComplete;
          let complete: boolean;
          try {
            complete = parser.push(chunk);
          } catch (err) {
            fail(err as Error);
            return;
          }
          if (complete) done(true);
          else if (!hadHead && parser.headComplete) {
            clearTimeout(timer);
            timer = setTimeout(() => fail(limitPassed('the response body', agents.timeoutMs)), agents.timeoutMs);
          }
        },
        closed(err) {
          if (settled) return;
          if (err === undefined && parser.end()) done(false);
          else fail(err ?? connectionClosed(parser.headComplete));
        },
      };
      held.socket.write(wire, (err) => {
        // The last byte of the request is with the operating system: from here the server may apply it.
        if (err === undefined || err === null) sent = true;
      });
    });
  });
}

const BREAK = /[\r\n]/;

/** The request's bytes: head and body in one Buffer, for one write. */
function serialize(request: SdkHttpRequest): Buffer {
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  for (const name in request.headers) {
    const value = request.headers[name] as string;
    // Names and values come from this service, the endpoint resolution and the signer; a line break in one would split the request.
    if (BREAK.test(name) || BREAK.test(value)) throw new Error(`DynamoDB request: the header ${JSON.stringify(name)} contains a line break`);
    head += `${name}: ${value}\r\n`;
  }
  head += '\r\n';
  const body = typeof request.body === 'string' ? request.body : '';
  const headBytes = head.length;
  const out = Buffer.allocUnsafe(headBytes + Buffer.byteLength(body));
  out.write(head, 0, 'latin1');
  out.write(body, headBytes, 'utf8');
  return out;
}

function keepAliveHint(header: string | undefined): number | undefined {
  const hint = header === undefined ? null : /(?:^|,)\s*timeout=(\d+)/.exec(header);
  return hint === null ? undefined : Number(hint[1]);
}

function connectionClosed(answering: boolean): Error & { code: string } {
  return Object.assign(new Error(answering ? 'DynamoDB closed the connection during its answer' : 'socket hang up'), { code: 'ECONNRESET' });
}
