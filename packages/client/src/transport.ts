import { apiError, FeatureStoreTimeoutError } from './errors.js';
import { RETRIED_STATUSES, retryDelayMs, sleep } from './retry.js';

export interface TransportOptions {
  /** The service's address, e.g. `http://127.0.0.1:8015` (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` when the service has API keys on. */
  apiKey?: string | undefined;
  /** Per attempt: the request is aborted after this long (default 10,000 ms). */
  timeoutMs?: number | undefined;
  /** Retries of a 429 or 503 answer after the first attempt (default 3; 0: none). */
  retries?: number | undefined;
  /** Longest wait before one retry, whatever `Retry-After` says (default 30,000 ms). */
  maxRetryDelayMs?: number | undefined;
  /** Called before each retry (for logging or metrics). */
  onRetry?: ((info: RetryInfo) => void) | undefined;
}

export interface RetryInfo {
  method: string;
  path: string;
  status: number;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
}

export interface Answer {
  status: number;
  body: unknown;
}

export interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Already percent-encoded, starting with `/`. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Statuses (besides 2xx) answered with their body instead of an error, e.g. 503 of health. */
  accept?: readonly number[];
  /** Whether a 429/503 is retried (default true). */
  retry?: boolean;
}

/**
 * HTTP over Node's global `fetch` (undici), which keeps connections alive and reuses them
 * across calls of the same process. Each attempt has its own timeout (an `AbortSignal`);
 * 429 and 503 are retried at most `retries` times, waiting as `Retry-After` says.
 */
export function createTransport(options: TransportOptions): (call: Call) => Promise<Answer> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 3;
  const maxDelayMs = options.maxRetryDelayMs ?? 30_000;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;

  return async function send(call: Call): Promise<Answer> {
    const url = new URL(base + call.path);
    for (const [name, value] of Object.entries(call.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    const init: RequestInit = { method: call.method, headers: { ...headers } };
    if (call.body !== undefined) {
      init.body = JSON.stringify(call.body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
        text = await res.text();
      } catch (err) {
        if (err instanceof DOMException && err.name === 'TimeoutError') throw new FeatureStoreTimeoutError(call.method, call.path, timeoutMs);
        throw err;
      }
      const body: unknown = text === '' ? undefined : parse(text);
      if (res.ok || call.accept?.includes(res.status)) return { status: res.status, body };
      if (call.retry !== false && RETRIED_STATUSES.has(res.status) && attempt < retries) {
        const delayMs = retryDelayMs(res.headers.get('retry-after'), attempt, maxDelayMs);
        options.onRetry?.({ method: call.method, path: call.path, status: res.status, attempt: attempt + 1, delayMs });
        await sleep(delayMs);
        continue;
      }
      throw apiError(res.status, body, res.headers.get('x-request-id') ?? undefined);
    }
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}
