import type { FastifyReply } from 'fastify';

export const LATE_DETAIL = 'The request was not answered in time, retry later';

/** A request answered outside Fastify (fast-read.ts), which answers itself when late. */
export interface OwnAnswer {
  answerLate(): void;
}

/**
 * `REQUEST_TIMEOUT_MS`: a request not answered within `timeoutMs` of its arrival gets 503
 * `RESPONSE_TIMEOUT` with `Retry-After: 1` (a handler that answers later is ignored, and Fastify
 * logs that the reply was already sent).
 *
 * Why not Fastify's `handlerTimeout`: it gives every request an AbortController, a timer and a
 * `close` listener, and aborts the signal when the request ends (a DOMException per request);
 * measured at about 6 % of a point read's CPU. Every request has the same bound here, so arrival
 * order is deadline order: the requests in flight sit in an insertion-ordered Map, and one
 * timer looks at the oldest until it meets one still in time. A request costs one Map insert and
 * one delete; the answer comes at most one check interval (a tenth of the bound, 10 ms to 1 s)
 * late. An entry whose request ended without `onResponse` (a dropped connection) leaves at its
 * deadline, so the Map never holds more than the requests of one bound.
 */
export class ResponseDeadline {
  readonly #arrived = new Map<FastifyReply | OwnAnswer, number>();
  readonly #timeoutMs: number;
  readonly #timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#timer = setInterval(this.#check, Math.min(1000, Math.max(10, Math.floor(timeoutMs / 10))));
    this.#timer.unref();
  }

  /** A request arrived (its first hook). */
  arrive(reply: FastifyReply | OwnAnswer): void {
    this.#arrived.set(reply, Date.now());
  }

  /** Its response went out (`onResponse`). */
  leave(reply: FastifyReply | OwnAnswer): void {
    this.#arrived.delete(reply);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#arrived.clear();
  }

  readonly #check = (): void => {
    const due = Date.now() - this.#timeoutMs;
    for (const [reply, at] of this.#arrived) {
      if (at > due) break;
      this.#arrived.delete(reply);
      if ('answerLate' in reply) {
        reply.answerLate();
        continue;
      }
      if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) continue;
      reply.log.warn({ reqId: reply.request.id, route: reply.request.routeOptions.url }, 'no response within the request timeout');
      void reply.code(503).header('retry-after', '1').send({ detail: LATE_DETAIL, code: 'RESPONSE_TIMEOUT' });
    }
  };
}
