import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OutboxEvent } from '../model.js';
import type { EventPipelineHealth, EventPipelineStatus } from '../service/feature-service.js';
import type { OutboxStore } from '../store/ports.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { BrokerContact } from './broker-contact.js';
import type { EventPublisher } from './event-publisher.js';
import { OutboxStatistics } from './outbox-statistics.js';

export interface OutboxRelayOptions {
  /** Most events claimed and published per round. */
  batchSize: number;
  /** Idle poll interval, ms (a write wakes the relay sooner through `notify`). */
  pollIntervalMs: number;
  /**
   * After a wake-up, how long to let more events gather before claiming, ms (Kafka's
   * `linger.ms`). Under load this turns one round per write into one round per few ms: far fewer
   * claim/complete transactions and produce requests, for a few ms more event latency.
   * Default 10 ms.
   */
  lingerMs?: number;
  /**
   * Under sustained load the linger doubles after each round that found at least
   * `LOADED_ROUND_EVENTS` events, up to this, ms; a quieter round sets it back to `lingerMs`.
   * Fewer, larger rounds: each round's claim and delete transactions, its produce request and
   * its job statistics upserts (one per job and category, whatever the job's event count) are
   * shared by more events. kafkajs spends a few hundred µs of CPU on each produce request
   * whatever its size, so this matters most there. Default 100 ms (50 ms until this was
   * measured: rounds twice as large cost ~10 % less CPU per write with events on, for up to
   * 50 ms more event latency under sustained load only; docs/decisions/8-event-relay-cpu.md).
   */
  maxLingerMs?: number;
  /** Lease on claimed events, ms: how long before another relay may take them over. */
  leaseMs: number;
  /** Retry delays after a failed round. Default 200 ms doubling up to 5 s. */
  backoff?: BackoffOptions;
  /** Health is `degraded` once the oldest pending event is older than this, ms. Default 60 s. */
  maxPendingAgeMs?: number;
  /** While idle, how often the broker is probed so that health shows an outage before writes do, ms. */
  probeIntervalMs?: number;
  /** How long `stop` waits for the in-flight round, ms. Default 5 s. */
  stopTimeoutMs?: number;
}

export interface OutboxRelayDeps {
  outbox: OutboxStore;
  publisher: EventPublisher;
  metrics: Metrics;
  logger: Logger;
  options: OutboxRelayOptions;
  /** Lease owner id; a random id per process by default. */
  owner?: string;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

/** `full`: a whole batch was published (more may wait); `partial`: fewer; `idle`: none. */
type Round = 'full' | 'partial' | 'idle' | 'failed';

/** A round with at least this many events means writes arrive faster than one per linger ms or so: linger longer. */
const LOADED_ROUND_EVENTS = 32;

/** The relay loop refreshes the outbox gauges at most this often; health always reads fresh. */
const STATS_MAX_AGE_MS = 1_000;

/**
 * Moves change events from the store's outbox to the publisher: claim a batch (oldest first),
 * publish it in order, then delete it from the outbox. On failure the batch is released and the
 * round retried after a growing delay, forever, so that an acknowledged write's event is
 * published once the broker is back (at least once: a crash between publish and `complete`, or
 * an expired lease, publishes again with the same `event_id`).
 *
 * Runs beside the HTTP server and never holds up a request: writes only call `notify()`.
 */
export class OutboxRelay implements EventPipelineStatus {
  readonly owner: string;
  readonly #deps: OutboxRelayDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #backoff: BackoffOptions;
  readonly #maxPendingAgeMs: number;
  readonly #probeIntervalMs: number;
  readonly #stopTimeoutMs: number;
  readonly #lingerMs: number;
  readonly #maxLingerMs: number;
  /** The current linger: `lingerMs`, doubled under load up to `maxLingerMs`. */
  #linger: number;
  /** Events of the last round. */
  #lastRoundEvents = 0;

  #loop: Promise<void> | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  /** Set by `notify`; cleared when a round starts, so a write during a round triggers another. */
  #woken = false;
  #wake: (() => void) | undefined;
  #interruptSleep: (() => void) | undefined;
  /** Ids claimed by the round in progress (released by `stop` if it does not finish in time). */
  #inFlight: readonly string[] = [];

  readonly #broker: BrokerContact;
  #nextProbeAt = 0;

  readonly #stats: OutboxStatistics;

  constructor(deps: OutboxRelayDeps) {
    this.#deps = deps;
    this.owner = deps.owner ?? randomUUID();
    this.#log = deps.logger.child({ component: 'outbox-relay' });
    this.#now = deps.now ?? Date.now;
    this.#broker = new BrokerContact(this.#log, this.#now);
    this.#stats = new OutboxStatistics(deps.outbox, deps.metrics, this.#log, this.#now);
    this.#backoff = deps.options.backoff ?? { initialMs: 200, maxMs: 5_000 };
    this.#maxPendingAgeMs = deps.options.maxPendingAgeMs ?? 60_000;
    this.#probeIntervalMs = deps.options.probeIntervalMs ?? 15_000;
    this.#stopTimeoutMs = deps.options.stopTimeoutMs ?? 5_000;
    this.#lingerMs = deps.options.lingerMs ?? 10;
    this.#maxLingerMs = Math.max(this.#lingerMs, deps.options.maxLingerMs ?? 100);
    this.#linger = this.#lingerMs;
  }

  /** Starts the loop. Idempotent. */
  start(): void {
    if (this.#stopping) return;
    this.#loop ??= this.#run();
  }

  /** A write recorded an event: publish soon. Cheap and synchronous; call after every such write. */
  notify(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /**
   * Ends the loop: lets the in-flight round finish (up to `stopTimeoutMs`; if it does not, its
   * events are released for the next relay), then disconnects the publisher. Call before the
   * store closes. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async health(): Promise<EventPipelineHealth> {
    const stats = await this.#stats.read(0);
    if (stats === undefined) {
      return { status: 'degraded', pending: null, oldestPendingAgeSeconds: null, reason: 'the outbox cannot be read' };
    }
    const age = this.#stats.ageMs(stats);
    const reason =
      this.#broker.failureReason ??
      (age > this.#maxPendingAgeMs
        ? `the oldest pending event is ${Math.round(age / 1000)} s old`
        : undefined);
    return {
      status: reason === undefined ? 'ok' : 'degraded',
      pending: stats.pending,
      oldestPendingAgeSeconds: stats.oldestCreatedAt === null ? null : age / 1000,
      ...(reason === undefined ? {} : { reason }),
    };
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#interruptSleep?.();
    const loop = this.#loop ?? Promise.resolve();
    const finished = await within(loop, this.#stopTimeoutMs);
    if (!finished && this.#inFlight.length > 0) {
      this.#log.warn({ events: this.#inFlight.length }, 'in-flight events not published before shutdown; releasing them');
      await this.#deps.outbox.release(this.#inFlight).catch((err: unknown) => {
        this.#log.warn({ err }, 'could not release in-flight events; they are retried when their lease expires');
      });
    }
    await this.#deps.publisher.close();
    // Closing the publisher fails a publish still in progress; let the loop notice and end.
    if (!finished) await within(loop, 1_000);
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      this.#woken = false;
      let round: Round;
      try {
        round = await this.#round();
      } catch (err) {
        // Not expected (each step handles its own errors); keep relaying regardless.
        this.#log.error({ err }, 'outbox relay round failed unexpectedly');
        round = 'failed';
      }
      await this.#stats.read(STATS_MAX_AGE_MS);
      if (this.#stopping) break;
      if (round === 'failed') {
        await this.#sleep(backoffDelay(Math.max(1, this.#broker.failures), this.#backoff), false);
      } else if (round === 'idle' || round === 'partial') {
        if (round === 'idle' && this.#now() >= this.#nextProbeAt) await this.#probe();
        await this.#sleep(this.#deps.options.pollIntervalMs, true);
        this.#linger = this.#lastRoundEvents >= LOADED_ROUND_EVENTS ? Math.min(this.#maxLingerMs, this.#linger * 2) : this.#lingerMs;
        if (this.#woken && this.#linger > 0) await this.#sleep(this.#linger, false);
      }
    }
  }

  async #round(): Promise<Round> {
    const { outbox, publisher, metrics, options } = this.#deps;
    let batch: OutboxEvent[];
    try {
      batch = await outbox.claim(this.owner, options.batchSize, options.leaseMs);
    } catch (err) {
      this.#log.error({ err }, 'could not claim events from the outbox');
      return 'failed';
    }
    this.#lastRoundEvents = batch.length;
    if (batch.length === 0) return 'idle';
    const ids = batch.map((e) => e.id);
    this.#inFlight = ids;
    try {
      try {
        await publisher.publish(batch);
      } catch (err) {
        metrics.eventsFailed.inc(batch.length);
        this.#broker.failed(err, batch.length);
        await outbox.release(ids).catch((releaseErr: unknown) => {
          this.#log.warn({ err: releaseErr }, 'could not release events; they are retried when their lease expires');
        });
        return 'failed';
      }
      metrics.eventsPublished.inc(batch.length);
      this.#brokerAnswered();
      try {
        await outbox.complete(ids);
      } catch (err) {
        this.#log.error({ err, events: ids.length }, 'events published but not removed from the outbox; they will be published again');
        return 'failed';
      }
      return batch.length === options.batchSize ? 'full' : 'partial';
    } finally {
      this.#inFlight = [];
    }
  }

  async #probe(): Promise<void> {
    try {
      await this.#deps.publisher.probe();
      this.#brokerAnswered();
    } catch (err) {
      this.#broker.failed(err, 0);
      this.#nextProbeAt = this.#now() + backoffDelay(this.#broker.failures, this.#backoff);
    }
  }

  #brokerAnswered(): void {
    this.#broker.answered();
    this.#nextProbeAt = this.#now() + this.#probeIntervalMs;
  }

  /** Sleeps `ms`; `stop` ends any sleep, `notify` ends a `wakeable` one. */
  #sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.#stopping || (wakeable && this.#woken)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#interruptSleep = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      if (wakeable) this.#wake = done;
      this.#interruptSleep = done;
    });
  }
}

/** Waits for `promise` up to `ms`; true if it settled in time. Never rejects. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
