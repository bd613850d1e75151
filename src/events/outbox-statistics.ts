import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OutboxStats, OutboxStore } from '../store/ports.js';

/**
 * The outbox's statistics as the relay reads them (outbox-relay.ts): one `stats()` call shared by
 * concurrent callers, a result reused while younger than the caller allows, and every read
 * setting the outbox gauges (pending events, age of the oldest).
 */
export class OutboxStatistics {
  #last: { value: OutboxStats | undefined; at: number } = { value: undefined, at: -Infinity };
  #refresh: Promise<OutboxStats | undefined> | undefined;

  constructor(
    readonly outbox: OutboxStore,
    readonly metrics: Metrics,
    readonly log: Logger,
    /** Milliseconds since the epoch. */
    readonly now: () => number,
  ) {}

  /** Statistics no older than `maxAgeMs`; `undefined` when the store cannot say. */
  read(maxAgeMs: number): Promise<OutboxStats | undefined> {
    if (this.#refresh === undefined && this.now() - this.#last.at < maxAgeMs) return Promise.resolve(this.#last.value);
    this.#refresh ??= this.outbox
      .stats()
      .then(
        (stats) => {
          this.#last = { value: stats, at: this.now() };
          this.metrics.outboxPending.set(stats.pending);
          this.metrics.outboxOldestAge.set(this.ageMs(stats) / 1000);
          return stats;
        },
        (err: unknown) => {
          this.log.warn({ err }, 'could not read outbox statistics');
          this.#last = { value: undefined, at: this.now() };
          return undefined;
        },
      )
      .finally(() => {
        this.#refresh = undefined;
      });
    return this.#refresh;
  }

  /** How old the oldest pending event is, ms (0 with none, or an unreadable time). */
  ageMs(stats: OutboxStats): number {
    if (stats.oldestCreatedAt === null) return 0;
    const created = Date.parse(stats.oldestCreatedAt);
    return Number.isNaN(created) ? 0 : Math.max(0, this.now() - created);
  }
}
