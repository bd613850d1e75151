import type { FeatureStore } from './ports.js';

/**
 * A store that forwards every operation to `store`. Wrappers that change a few operations
 * (notify-on-write.ts, legacy-statsd-store.ts) spread it and override those, so a port method
 * added later reaches the backend through every wrapper without touching them.
 *
 * The synchronous reads (`getRecordsNow`, `getStoredNow`) are not forwarded: they would bypass a
 * wrapper that changes `getRecords`. A wrapper that leaves reads alone adds `...readsNowOf(store)`.
 */
export function delegate(store: FeatureStore): FeatureStore {
  return {
    type: store.type,
    outbox: store.outbox,
    computeJobs: store.computeJobs,
    sweeper: store.sweeper,
    rollbacks: store.rollbacks,
    getRecords: (keys) => store.getRecords(keys),
    writeRecord: (input) => store.writeRecord(input),
    mergeRecord: (input) => store.mergeRecord(input),
    deleteRecord: (input) => store.deleteRecord(input),
    getComputeHistory: (key, limit) => store.getComputeHistory(key, limit),
    getVersions: (key, limit) => store.getVersions(key, limit),
    findByComputeId: (query) => store.findByComputeId(query),
    countByComputeId: (entityType, computeId) => store.countByComputeId(entityType, computeId),
    listCategory: (query) => store.listCategory(query),
    health: () => store.health(),
    close: () => store.close(),
  };
}

/** `store`'s synchronous reads, for a wrapper that does not change reads; `{}` when it has none. */
export function readsNowOf(store: FeatureStore): Pick<FeatureStore, 'getRecordsNow' | 'getStoredNow'> {
  return {
    ...(store.getRecordsNow === undefined ? {} : { getRecordsNow: store.getRecordsNow.bind(store) }),
    ...(store.getStoredNow === undefined ? {} : { getStoredNow: store.getStoredNow.bind(store) }),
  };
}
