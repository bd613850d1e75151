/**
 * The event publisher on a thread of its own. The relay (claim → publish → complete) stays on
 * the main thread; each `publish` hands the events' keys and stored JSON texts to a worker
 * thread that runs the Kafka client and answers once the broker acknowledged them all (or
 * failed). kafkajs spent most of an event's CPU (docs/decisions/8-event-relay-cpu.md); on the
 * main thread that time was taken from requests, here it runs beside them.
 *
 * Guarantees are the publisher's, unchanged: `publish` resolves only after the thread's
 * producer had every event acknowledged, in the given order; a failure rejects (a missing topic
 * as a `DestinationMissingError`, as the relay's health needs it). If the thread dies (an
 * uncaught error, out of memory, terminated), every request it had rejects, the failure is
 * logged, and the next request starts a new thread: the relay backs off and retries the same
 * events, which stay in the outbox until a publish succeeded.
 */
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { moduleBeside, startWorker } from '../worker-thread.js';
import type { KafkaConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { OutboxEvent } from '../model.js';
import type { EventPublisher } from './event-publisher.js';
import { eventValue, type KafkaPublisherOptions } from './kafka-publisher.js';
import { fromWireError, PublisherThreadError, type Reply, type Request } from './publisher-protocol.js';
import type { PublisherWorkerData } from './publisher-worker.js';

/**
 * The thread's heap limits, MiB. Its live data is one round in flight (at most
 * `OUTBOX_BATCH_SIZE` events, a few hundred KB) and kafkajs's connections, ~6.5 MiB in all;
 * without limits V8 sizes a thread's young generation as the main thread's (up to 3 × 16 MiB
 * under a high allocation rate, which kafkajs's per-record buffers reach), and that is resident
 * memory. A 4 MiB young generation kept the thread's heap at 17 MiB under the bench's writes
 * (21 MiB with 8), for more, short scavenges on this thread, not on the event loop
 * (docs/decisions/8-event-relay-cpu.md, round 2). A thread that outgrows the old generation
 * limit dies and is replaced like any other crash.
 */
export const PUBLISHER_THREAD_LIMITS: ResourceLimits = Object.freeze({ maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 });

/** How long `close` waits for the thread to disconnect and exit before terminating it, ms. */
const CLOSE_TIMEOUT_MS = 5_000;

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  readonly exited: Promise<void>;
  closing: boolean;
}

export interface ThreadPublisherOptions {
  /** The thread's module (default publisher-worker: kafkajs); tests pass their own. */
  entry?: URL;
  /** Passed to the thread as `workerData`. */
  workerData: unknown;
  logger: Logger;
  resourceLimits?: ResourceLimits;
}

export class ThreadPublisher implements EventPublisher {
  readonly #entry: URL;
  readonly #workerData: unknown;
  readonly #log: Logger;
  readonly #threadLog: Logger;
  readonly #resourceLimits: ResourceLimits;
  #thread: Thread | undefined;
  #nextId = 0;

  constructor(options: ThreadPublisherOptions) {
    this.#entry = options.entry ?? siblingModule('publisher-worker');
    this.#workerData = options.workerData;
    this.#log = options.logger.child({ component: 'event-publisher' });
    this.#threadLog = options.logger.child({ component: 'kafkajs' });
    this.#resourceLimits = options.resourceLimits ?? PUBLISHER_THREAD_LIMITS;
  }

  /** Whether a thread runs (started by a request, ended by `close` or a crash). */
  get running(): boolean {
    return this.#thread !== undefined;
  }

  publish(events: readonly OutboxEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.#request((id) => ({ op: 'publish', id, keys: events.map((e) => e.key), values: events.map(eventValue) }));
  }

  probe(): Promise<void> {
    return this.#request((id) => ({ op: 'probe', id }));
  }

  /** Disconnects and ends the thread (terminated if it does not exit in time). Idempotent; a later request starts a new one. */
  async close(): Promise<void> {
    const thread = this.#thread;
    if (thread === undefined) return;
    this.#thread = undefined;
    thread.closing = true;
    // Referenced while closing: the process must not end before the producer disconnected.
    thread.worker.ref();
    thread.worker.postMessage({ op: 'close', id: this.#nextId++ } satisfies Request);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_TIMEOUT_MS)));
    const outcome = await Promise.race([thread.exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.#log.warn({ timeoutMs: CLOSE_TIMEOUT_MS }, 'event publisher thread did not close in time; terminating it');
      await thread.worker.terminate();
      await thread.exited;
    }
  }

  #request(build: (id: number) => Request): Promise<void> {
    const thread = (this.#thread ??= this.#start());
    const request = build(this.#nextId++);
    return new Promise<void>((resolve, reject) => {
      thread.pending.set(request.id, { resolve, reject });
      // A request in progress keeps the process alive, as the client's socket did on this thread.
      if (thread.pending.size === 1) thread.worker.ref();
      thread.worker.postMessage(request);
    });
  }

  #start(): Thread {
    const worker = startWorker(this.#entry, this.#workerData, this.#resourceLimits);
    worker.unref();
    const pending = new Map<number, Pending>();
    let failure: Error | undefined;
    const thread: Thread = {
      worker,
      pending,
      closing: false,
      exited: new Promise((resolve) => {
        worker.once('exit', (exitCode) => {
          if (this.#thread === thread) this.#thread = undefined;
          const err = new PublisherThreadError(
            failure === undefined
              ? `event publisher thread exited (code ${exitCode})`
              : `event publisher thread failed: ${failure.message}`,
            undefined,
            { cause: failure },
          );
          if (!thread.closing) this.#log.error({ err, exitCode, requests: pending.size }, 'event publisher thread ended; a new one starts with the next attempt');
          for (const p of pending.values()) p.reject(err);
          pending.clear();
          resolve();
        });
      }),
    };
    worker.on('error', (err) => {
      failure = err;
    });
    worker.on('message', (reply: Reply) => {
      if (reply.kind === 'log') {
        this.#threadLog[reply.level](JSON.parse(reply.json) as object, reply.msg);
        return;
      }
      const p = pending.get(reply.id);
      if (p === undefined) return; // the reply to `close`: the exit follows
      pending.delete(reply.id);
      if (pending.size === 0) worker.unref();
      if (reply.kind === 'done') p.resolve();
      else p.reject(fromWireError(reply.error));
    });
    return thread;
  }
}

/** The Kafka publisher on its own thread. */
export function createThreadKafkaPublisher(kafka: KafkaConfig, logger: Logger, options: KafkaPublisherOptions = {}): ThreadPublisher {
  const workerData: PublisherWorkerData = { kafka, options, debugEnabled: logger.isLevelEnabled('debug') };
  return new ThreadPublisher({ workerData, logger });
}

/**
 * The module `name` beside this one: `.js` in the build; `.ts` when the service runs from its
 * sources (tests, under tsx).
 */
export function siblingModule(name: string): URL {
  return moduleBeside(import.meta.url, name);
}
