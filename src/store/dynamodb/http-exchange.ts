import http from 'node:http';
import https from 'node:https';
import type { SdkHttpRequest, SdkHttpResponse, SdkParts } from './sdk-parts.js';

/** The keep-alive agents the SDK clients share (client.ts) and the whole exchange's time limit. */
export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
  timeoutMs: number;
}

const TIMEOUT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * One signed request on a keep-alive agent: the response with its whole body (a Buffer), as the
 * SDK's response class (its error deserializer and clock-skew handler read that). Node's
 * connection errors come back as they are, those the SDK's handler calls timeouts (ECONNRESET,
 * EPIPE, ETIMEDOUT) named `TimeoutError` as it names them; no answer within `timeoutMs` is an
 * ETIMEDOUT `TimeoutError`.
 */
export function exchange(request: SdkHttpRequest, agents: HttpAgents, sdk: SdkParts): Promise<SdkHttpResponse> {
  return new Promise((resolve, reject) => {
    const tls = request.protocol === 'https:';
    // An IPv6 literal comes bracketed from the endpoint URL; node:http takes it bare.
    const host = request.hostname.startsWith('[') ? request.hostname.slice(1, -1) : request.hostname;
    const options = { agent: tls ? agents.https : agents.http, host, port: request.port, path: request.path, method: request.method, headers: request.headers };
    const req = (tls ? https.request : http.request)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        resolve(new sdk.HttpResponse({ statusCode: res.statusCode ?? -1, headers, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
      });
    });
    function fail(err: Error & { code?: string }): void {
      clearTimeout(timer);
      req.destroy();
      reject(TIMEOUT_CODES.has(err.code ?? '') ? Object.assign(err, { name: 'TimeoutError' }) : err);
    }
    const timer = setTimeout(() => fail(Object.assign(new Error(`DynamoDB did not answer within ${agents.timeoutMs} ms`), { code: 'ETIMEDOUT' })), agents.timeoutMs);
    req.on('error', fail);
    req.end(request.body as string);
  });
}
