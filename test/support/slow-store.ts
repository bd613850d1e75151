import type { FeatureStore } from '../../src/store/ports.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The backend's real store, with reads of entity values starting `slow-` held for `delayMs`.
 * It has no synchronous read, so every read answers later (as on DynamoDB).
 */
export function slowReads(store: FeatureStore, delayMs: number): FeatureStore {
  return new Proxy(store, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name);
      if (typeof value !== 'function') return value;
      // A store that answers after a delay has no synchronous reads.
      if (name === 'getRecordsNow' || name === 'getStoredNow') return undefined;
      if (name !== 'getRecords') return (value as (...args: unknown[]) => unknown).bind(target);
      return async (keys: Parameters<FeatureStore['getRecords']>[0]) => {
        if (keys.some((k) => k.entityValue.startsWith('slow-'))) await sleep(delayMs);
        return target.getRecords(keys);
      };
    },
  });
}
