import type { Logger } from '../logger.js';
import { delegate, readsNowOf } from '../store/delegate.js';
import { JobWritesSum } from '../store/job-writes.js';
import type { FeatureStore } from '../store/ports.js';

/**
 * Job statistics when change events are off (no `KAFKA_BROKERS`, so no outbox and no relay to
 * count them as it publishes): the wrapped store sums each applied write and merge that carries
 * a compute_id in memory (a few map updates on the request path, no I/O) and a background loop
 * adds the sums to `store.computeJobs` every `flushIntervalMs`, and once more on `close`. The
 * statistics then trail the writes by up to that interval; a crash (SIGKILL, power loss) loses
 * the writes of the last interval from the counts (never the writes themselves). A flush that
 * fails is retried with the next one.
 */
export function recordJobWrites(store: FeatureStore, options: { flushIntervalMs: number; logger: Logger }): FeatureStore {
  const sum = new JobWritesSum();
  const log = options.logger.child({ component: 'job-stats' });
  let flushing: Promise<void> | undefined;

  const flush = (): Promise<void> => {
    flushing ??= (async () => {
      const writes = sum.drain();
      if (writes.length === 0) return;
      try {
        await store.computeJobs.add(writes);
      } catch (err) {
        sum.merge(writes);
        log.warn({ err, jobs: writes.length }, 'could not add job statistics; retrying with the next flush');
      }
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs);
  timer.unref();

  const count = (computeId: string | null, entityType: string, category: string, at: string): void => {
    if (computeId !== null && computeId !== '') sum.add({ computeId, entityType, category, at });
  };

  return {
    ...delegate(store),
    ...readsNowOf(store),
    async writeRecord(input) {
      const result = await store.writeRecord(input);
      if (result.outcome === 'applied') count(input.computeId, input.key.entityType, input.key.category, input.now);
      return result;
    },
    async mergeRecord(input) {
      const result = await store.mergeRecord(input);
      count(input.computeId, input.key.entityType, input.key.category, input.now);
      return result;
    },
    async close() {
      clearInterval(timer);
      await flushing;
      await flush();
      await store.close();
    },
  };
}
