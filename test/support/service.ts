import { startServer, type Runtime } from '../../src/server.js';
import type { Clock } from '../../src/timestamps.js';
import { testConfig, type BackendInstance } from './backend.js';

/** A clock tests move by hand; every read returns the current time. */
export interface ManualClock {
  clock: Clock;
  set(iso: string): void;
  advance(ms: number): void;
  now(): string;
}

export function manualClock(start = '2025-10-16T10:00:00.000Z'): ManualClock {
  let t = Date.parse(start);
  return {
    clock: () => new Date(t),
    set: (iso) => {
      t = Date.parse(iso);
    },
    advance: (ms) => {
      t += ms;
    },
    now: () => new Date(t).toISOString(),
  };
}

/** Starts the real service (same code path as `feature-store serve`) on an ephemeral port. */
export async function startService(
  instance: BackendInstance,
  options: { clock?: Clock; env?: Record<string, string> } = {},
): Promise<Runtime> {
  return startServer(testConfig(instance, options.env), options.clock === undefined ? {} : { clock: options.clock });
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** A small HTTP client over real sockets; keeps the raw body for byte-exact assertions. */
export function client(baseUrl: string) {
  async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await fetch(baseUrl + path, init);
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }
  return {
    request,
    get: (path: string, headers?: Record<string, string>) => request('GET', path, undefined, headers),
    post: (path: string, body: unknown, headers?: Record<string, string>) => request('POST', path, body, headers),
  };
}
