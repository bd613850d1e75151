import type { Metrics } from '../metrics.js';
import type { FeatureStore } from './ports.js';

/**
 * Wraps a store so that every data operation is timed into
 * `feature_store_store_operation_duration_seconds{backend, operation, outcome}`.
 */
export function instrumentStore(store: FeatureStore, metrics: Metrics): FeatureStore {
  const histogram = metrics.storeDuration;
  const backend = store.type;
  const timed = <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = process.hrtime.bigint();
      let outcome = 'error';
      try {
        const result = await fn(...args);
        outcome = 'ok';
        return result;
      } finally {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        histogram.observe({ backend, operation, outcome }, seconds);
      }
    };
  return {
    type: store.type,
    outbox: store.outbox,
    writeRecord: timed('write', store.writeRecord.bind(store)),
    getRecords: timed('get', store.getRecords.bind(store)),
    mergeRecord: timed('merge', store.mergeRecord.bind(store)),
    getComputeHistory: timed('get_history', store.getComputeHistory.bind(store)),
    findByComputeId: timed('find_by_compute_id', store.findByComputeId.bind(store)),
    listCategory: timed('list_category', store.listCategory.bind(store)),
    deleteRecord: timed('delete', store.deleteRecord.bind(store)),
    sweeper: store.sweeper === undefined ? undefined : { sweepExpired: timed('sweep', store.sweeper.sweepExpired.bind(store.sweeper)) },
    health: store.health.bind(store),
    close: store.close.bind(store),
  };
}
