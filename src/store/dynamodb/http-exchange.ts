import http from 'node:http';
import https from 'node:https';
import type { SdkHttpRequest, SdkHttpResponse, SdkParts } from './sdk-parts.js';

/** The keep-alive agents the SDK clients share (client.ts) and the time limit of each wait. */
export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
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

/**
 * One signed request on a keep-alive agent: the response with its whole body (a Buffer), as the
 * SDK's response class (its error deserializer and clock-skew handler read that).
 *
 * Time limits: `timeoutMs` until the response headers (the server's time to apply and answer),
 * where the SDK's handler stops its request timer too, then `timeoutMs` again for the body, so
 * that no exchange waits without a timer. Node's connection errors come back as they are, those the SDK's handler
 * calls timeouts (ECONNRESET, EPIPE, ETIMEDOUT) named `TimeoutError` as it names them; a limit
 * passed is an ETIMEDOUT `TimeoutError`. Every failure destroys the request and its socket (a
 * socket with a late answer still on its way must not serve the next request).
 */
export function exchange(request: SdkHttpRequest, agents: HttpAgents, sdk: SdkParts): Promise<SdkHttpResponse> {
  return new Promise((resolve, reject) => {
    const tls = request.protocol === 'https:';
    // An IPv6 literal comes bracketed from the endpoint URL; node:http takes it bare.
    const host = request.hostname.startsWith('[') ? request.hostname.slice(1, -1) : request.hostname;
    const options = { agent: tls ? agents.https : agents.http, host, port: request.port, path: request.path, method: request.method, headers: request.headers };
    let sent = false;
    let settled = false;
    const req = (tls ? https.request : http.request)(options, (res) => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(limitPassed('the response body', agents.timeoutMs)), agents.timeoutMs);
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(Object.assign(new Error('DynamoDB closed the connection during its answer'), { code: 'ECONNRESET' }));
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        resolve(new sdk.HttpResponse({ statusCode: res.statusCode ?? -1, headers, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
      });
    });
    function fail(err: Error & { code?: string }): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      const code = err.code ?? '';
      if (sent) unanswered.add(err);
      reject(TIMEOUT_CODES.has(code) ? Object.assign(err, { name: 'TimeoutError' }) : err);
    }
    let timer = setTimeout(() => fail(limitPassed('an answer', agents.timeoutMs)), agents.timeoutMs);
    // The last byte of the request is with the operating system: from here the server may apply it.
    req.on('finish', () => {
      sent = true;
    });
    req.on('error', fail);
    req.end(request.body as string);
  });
}

function limitPassed(what: string, ms: number): Error & { code: string } {
  return Object.assign(new Error(`DynamoDB did not send ${what} within ${ms} ms`), { code: 'ETIMEDOUT' });
}
