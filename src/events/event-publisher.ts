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
