import type { FeatureStore } from '../store/feature-store.js';

/**
 * Wraps a store so that `onEventRecorded` runs right after each write that recorded a change
 * event has committed (the relay's wake-up call). It runs synchronously and must be cheap: the
 * HTTP response waits for it, never for the broker.
 */
export function notifyOnEventWrite(store: FeatureStore, onEventRecorded: () => void): FeatureStore {
  return {
    type: store.type,
    outbox: store.outbox,
    async writeCategory(input) {
      const meta = await store.writeCategory(input);
      if (input.event !== undefined) onEventRecorded();
      return meta;
    },
    getCategory: (entityType, entityValue, category) => store.getCategory(entityType, entityValue, category),
    getCategories: (entityType, entityValue, categories) => store.getCategories(entityType, entityValue, categories),
    health: () => store.health(),
    close: () => store.close(),
  };
}
