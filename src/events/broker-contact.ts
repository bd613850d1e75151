import type { Logger } from '../logger.js';
import { DestinationMissingError } from './event-publisher.js';

/** While contacts keep failing, a warning is logged at most this often (the rest at debug). */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * The relay's record of its contacts with the broker (publishes and probes): how many failed in
 * a row, since when, why (for health), and the log lines they earn — a warning when failures
 * start, when their kind changes (broker away ↔ topic missing) and then once per
 * FAILURE_LOG_INTERVAL_MS; debug in between; one info line when contact is back.
 */
export class BrokerContact {
  readonly #log: Logger;
  readonly #now: () => number;
  /** Consecutive failed contacts; 0 when the last one worked. */
  #failures = 0;
  #failingSince = 0;
  #lastFailureLog = 0;
  /** What health reports while failing: the last failure, in words. */
  #reason = '';
  /** Whether the last failure was a missing destination. */
  #destinationMissing = false;

  constructor(log: Logger, now: () => number) {
    this.#log = log;
    this.#now = now;
  }

  get failures(): number {
    return this.#failures;
  }

  /** Why contact is failing, or undefined when the last contact worked. */
  get failureReason(): string | undefined {
    return this.#failures > 0 ? this.#reason : undefined;
  }

  answered(): void {
    if (this.#failures > 0) {
      const message = this.#destinationMissing ? 'Kafka topic exists now; publishing change events' : 'Kafka reachable again';
      this.#log.info({ failures: this.#failures, downForMs: this.#now() - this.#failingSince }, message);
    }
    this.#failures = 0;
    this.#destinationMissing = false;
  }

  /** A failed contact; `events` is how many events it tried to publish (0 for a probe). */
  failed(err: unknown, events: number): void {
    const now = this.#now();
    if (this.#failures === 0) this.#failingSince = now;
    this.#failures++;
    const missing = err instanceof DestinationMissingError;
    const kindChanged = missing !== this.#destinationMissing;
    this.#destinationMissing = missing;
    const cause = err instanceof Error ? err.message : String(err);
    // A missing destination is said in one line; its kafkajs error chain adds nothing.
    const what = events > 0 ? 'publishing change events failed' : 'Kafka is not reachable';
    this.#reason = missing ? cause : `${what}: ${cause}`;
    const message = missing ? cause : events > 0 ? `${what}; they stay in the outbox and are retried` : what;
    const details = { ...(missing ? {} : { err }), events, failures: this.#failures, failingForMs: now - this.#failingSince };
    if (this.#failures === 1 || kindChanged || now - this.#lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
      this.#lastFailureLog = now;
      this.#log.warn(details, message);
    } else {
      this.#log.debug(details, message);
    }
  }
}
