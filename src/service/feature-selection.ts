import type { FeatureMap, FeatureRecord } from '../model.js';

/** The features of one category a read asked for: some names, or `*` for all. */
export type FeatureSelection = ReadonlySet<string> | '*';

/**
 * The record narrowed to `selection`. Names the record does not have are ignored. The copy has
 * a null prototype, so that a feature named `__proto__` is copied like any other.
 */
export function selectFeatures(record: FeatureRecord, selection: FeatureSelection): FeatureRecord {
  if (selection === '*') return record;
  const data = Object.create(null) as FeatureMap;
  for (const name of selection) {
    if (Object.hasOwn(record.data, name)) data[name] = record.data[name] as FeatureMap[string];
  }
  return { ...record, data };
}
