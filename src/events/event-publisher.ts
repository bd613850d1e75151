import type { OutboxEvent } from '../model.js';

/** Where the outbox relay sends change events (Kafka in production). */
export interface EventPublisher {
  /**
   * Publishes `events` in the given order and resolves only once every one of them is durably
   * acknowledged (Kafka: by all in-sync replicas). Rejects if any may not have been written;
   * the caller then retries all of them (duplicates are allowed, loss is not).
   */
  publish(events: readonly OutboxEvent[]): Promise<void>;

  /** Resolves when the broker answers; rejects when it cannot be reached. Cheap; used when idle. */
  probe(): Promise<void>;

  /** Disconnects. Idempotent; a later `publish` reconnects. */
  close(): Promise<void>;
}

/**
 * The destination (the Kafka topic) does not exist: no retry can succeed until an operator
 * creates it. The relay reports this reason as it is, not as an unreachable broker.
 */
export class DestinationMissingError extends Error {
  readonly code = 'EVENT_DESTINATION_MISSING';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DestinationMissingError';
  }
}
