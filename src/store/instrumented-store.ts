import type { Metrics } from '../metrics.js';
import type { FeatureStore } from './ports.js';

/**
 * Wraps a store so that every data operation is timed into
 * `feature_store_store_operation_duration_seconds{backend, operation, outcome}`.
 */
export function instrumentStore(store: FeatureStore, metrics: Metrics): FeatureStore {
  const histogram = metrics.storeDuration;
  const backend = store.type;
  // Without an async wrapper (one promise more per call) and with the label sets bound once.
  const timed = <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) => {
    const ok = histogram.labels(backend, operation, 'ok');
    const failed = histogram.labels(backend, operation, 'error');
    return (...args: A): Promise<R> => {
      const start = performance.now();
      // The store methods are async functions: they never throw, they reject.
      return fn(...args).then(
        (value) => {
          ok.observe((performance.now() - start) / 1e3);
          return value;
        },
        (err: unknown) => {
          failed.observe((performance.now() - start) / 1e3);
          throw err;
        },
      );
    };
  };
  /** `timed` for an operation answered on the calling thread: it throws where `timed`'s rejects. */
  const timedNow = <A extends unknown[], R>(operation: string, fn: (...args: A) => R) => {
    const ok = histogram.labels(backend, operation, 'ok');
    const failed = histogram.labels(backend, operation, 'error');
    return (...args: A): R => {
      const start = performance.now();
      try {
        const value = fn(...args);
        ok.observe((performance.now() - start) / 1e3);
        return value;
      } catch (err) {
        failed.observe((performance.now() - start) / 1e3);
        throw err;
      }
    };
  };
  return {
    ...(store.getRecordsNow === undefined ? {} : { getRecordsNow: timedNow('get', store.getRecordsNow.bind(store)) }),
    ...(store.getStoredNow === undefined ? {} : { getStoredNow: timedNow('get', store.getStoredNow.bind(store)) }),
    type: store.type,
    outbox: store.outbox,
    computeJobs: store.computeJobs,
    rollbacks: store.rollbacks,
    writeRecord: timed('write', store.writeRecord.bind(store)),
    getRecords: timed('get', store.getRecords.bind(store)),
    mergeRecord: timed('merge', store.mergeRecord.bind(store)),
    getComputeHistory: timed('get_history', store.getComputeHistory.bind(store)),
    getVersions: timed('get_versions', store.getVersions.bind(store)),
    findByComputeId: timed('find_by_compute_id', store.findByComputeId.bind(store)),
    countByComputeId: timed('count_by_compute_id', store.countByComputeId.bind(store)),
    listCategory: timed('list_category', store.listCategory.bind(store)),
    deleteRecord: timed('delete', store.deleteRecord.bind(store)),
    sweeper: store.sweeper === undefined ? undefined : { sweepExpired: timed('sweep', store.sweeper.sweepExpired.bind(store.sweeper)) },
    health: store.health.bind(store),
    close: store.close.bind(store),
  };
}
