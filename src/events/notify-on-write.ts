import { delegate, readsNowOf } from '../store/delegate.js';
import type { FeatureStore } from '../store/ports.js';

/**
 * Wraps a store so that `onEventRecorded` runs right after each write, merge, delete or sweep that recorded a
 * change event has committed (the relay's wake-up call). It runs synchronously and must be
 * cheap: the HTTP response waits for it, never for the broker.
 */
export function notifyOnEventWrite(store: FeatureStore, onEventRecorded: () => void): FeatureStore {
  const sweeper = store.sweeper;
  return {
    ...delegate(store),
    ...readsNowOf(store),
    async writeRecord(input) {
      const result = await store.writeRecord(input);
      if (input.event !== undefined && result.outcome === 'applied') onEventRecorded();
      return result;
    },
    async mergeRecord(input) {
      const result = await store.mergeRecord(input);
      if (input.event !== undefined) onEventRecorded();
      return result;
    },
    async deleteRecord(input) {
      const deleted = await store.deleteRecord(input);
      if (input.event !== undefined && deleted !== undefined) onEventRecorded();
      return deleted;
    },
    sweeper:
      sweeper === undefined
        ? undefined
        : {
            async sweepExpired(input) {
              const removed = await sweeper.sweepExpired(input);
              if (input.event !== undefined && removed > 0) onEventRecorded();
              return removed;
            },
          },
  };
}
