import { performance } from 'node:perf_hooks';
import type { ApiKey, Scope } from '../auth/api-keys.js';
import type { KeyRing } from '../auth/key-ring.js';
import { bearerKey } from './access.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { FeatureService } from '../service/feature-service.js';
import { errorAnswer } from './error-handler.js';
import { eachStandardHeader } from './protocol-errors.js';
import type { HttpMetrics } from './http-metrics.js';
import { LATE_DETAIL, type OwnAnswer, type ResponseDeadline } from './response-deadline.js';
import { JSON_CONTENT_TYPE } from './response-json.js';
import type { ResponseSink } from './response-sink.js';

/** What the fast paths (fast-read.ts) need from the application. */
export interface FastPathDeps {
  service: FeatureService;
  metrics: Metrics;
  httpMetrics: HttpMetrics;
  logger: Logger;
  deadline: ResponseDeadline;
  /** API keys in force; undefined in open mode. */
  keys: KeyRing | undefined;
  /** Whether the overload guard refuses feature requests now. */
  overloaded: () => boolean;
  /** Whether the server is closing (Fastify answers 503 then). */
  closing: () => boolean;
}

/** A request's method, target and headers (lower-case names), as node:http or the lane (lane.ts) read them. */
export interface RequestHead {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: { readonly [name: string]: string | string[] | undefined };
}

/** A POST a fast path took on its head: its answer, and what reads the whole body once it is in. */
export interface BodyWanted {
  readonly answer: FastAnswer;
  complete(text: string): void;
}

/** What a fast path did with a request: left it (undefined), answered or is answering it, or wants its body. */
export type FastTake = undefined | 'answered' | BodyWanted;

/**
 * With keys on, the request's key when it has `scope` (else undefined: Fastify answers the 401
 * or 403). Open mode: null.
 */
export function scopedKey(deps: FastPathDeps, req: RequestHead, scope: Scope): ApiKey | null | undefined {
  if (deps.keys === undefined) return null;
  const { authorization } = req.headers;
  const key = bearerKey(deps.keys, typeof authorization === 'string' ? authorization : undefined);
  if (key === undefined || !key.scopes.includes(scope)) return undefined;
  return key;
}

/**
 * One request taken by a fast path, answered as the Fastify pipeline answers it: the standard
 * headers (protocol-errors.ts `eachStandardHeader`), error bodies and logs from `errorAnswer`, the
 * request counted and timed under its route template, and the response deadline kept.
 *
 * The deadline (response-deadline.ts) watches an answer only once it waits: for its body
 * (`waiting`, node:http's stream) or for a store's promise (`settleLater`). An answer written
 * on the calling thread (`settle`, SQLite's reads) cannot be late, since the deadline's check
 * runs on a timer that cannot run before the answer is written: registering it cost a Map insert
 * and delete per request (with an identity hash for the key and the Map's shrinking), 1–2 µs.
 */
export class FastAnswer implements OwnAnswer {
  readonly started = performance.now();
  /** Whether the deadline watches this answer. */
  #watched = false;

  constructor(
    readonly sink: ResponseSink,
    readonly id: string,
    readonly method: string,
    readonly route: string,
    readonly deps: FastPathDeps,
  ) {}

  /** The answer waits (for the request body or a promise): from now on the deadline applies. */
  waiting(): void {
    if (this.#watched) return;
    this.#watched = true;
    this.deps.deadline.arrive(this);
  }

  send(status: number, body: string, retryAfter?: string): void {
    const { sink } = this;
    if (this.#watched) this.deps.deadline.leave(this);
    if (!sink.open()) return;
    eachStandardHeader(this.id, true, (name, value) => sink.header(name, value));
    if (retryAfter !== undefined) sink.header('retry-after', retryAfter);
    sink.header('content-type', JSON_CONTENT_TYPE);
    const bytes = Buffer.byteLength(body);
    sink.header('content-length', String(bytes));
    sink.end(status, body, bytes);
    this.deps.httpMetrics(this.route, this.method, status).observe((performance.now() - this.started) / 1000);
  }

  /** Answers 200 with `json` of what the service resolved with, or the error answer of its rejection. */
  settleLater<T>(result: Promise<T>, json: (value: T) => string): void {
    this.waiting();
    result.then(
      (value) => this.send(200, json(value)),
      (error: unknown) => this.failed(error),
    );
  }

  /** `settleLater` for a body `read` builds on the calling thread: the error answer of what it throws. */
  settle(read: () => string): void {
    let body: string;
    try {
      body = read();
    } catch (error) {
      this.failed(error);
      return;
    }
    this.send(200, body);
  }

  failed(error: unknown): void {
    const answer = errorAnswer(error);
    if (answer.log !== undefined) {
      const cause = answer.log === 'store error' ? { cause: (error as { cause?: unknown }).cause } : {};
      this.deps.logger.error({ reqId: this.id, err: error, ...cause }, answer.log);
    }
    this.send(answer.status, JSON.stringify(answer.body), answer.retryAfterSeconds === undefined ? undefined : String(answer.retryAfterSeconds));
  }

  /** The request ended before its answer (the client went away): nothing to send. */
  dropped(): void {
    if (this.#watched) this.deps.deadline.leave(this);
  }

  answerLate(): void {
    if (!this.sink.open()) return;
    this.deps.logger.warn({ reqId: this.id, route: this.route }, 'no response within the request timeout');
    this.send(503, JSON.stringify({ detail: LATE_DETAIL, code: 'RESPONSE_TIMEOUT' }), '1');
  }
}
