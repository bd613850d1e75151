import type { FeatureStore } from './ports.js';

/**
 * A store that forwards every operation to `store`. Wrappers that change a few operations
 * (notify-on-write.ts, legacy-statsd-store.ts) spread it and override those, so a port method
 * added later reaches the backend through every wrapper without touching them.
 */
export function delegate(store: FeatureStore): FeatureStore {
  return {
    type: store.type,
    outbox: store.outbox,
    sweeper: store.sweeper,
    getRecords: (keys) => store.getRecords(keys),
    writeRecord: (input) => store.writeRecord(input),
    mergeRecord: (input) => store.mergeRecord(input),
    deleteRecord: (input) => store.deleteRecord(input),
    getComputeHistory: (key, limit) => store.getComputeHistory(key, limit),
    findByComputeId: (query) => store.findByComputeId(query),
    listCategory: (query) => store.listCategory(query),
    health: () => store.health(),
    close: () => store.close(),
  };
}
