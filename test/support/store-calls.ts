import type { FeatureMap, FeatureRecord, OutboxEvent } from '../../src/model.js';
import type { FeatureStore, WriteRecordInput } from '../../src/store/ports.js';

/** Shorthands over the record port for backend-specific tests: one key, or one entity's categories. */
export async function getOne(store: FeatureStore, entityType: string, entityValue: string, category: string): Promise<FeatureRecord | undefined> {
  const [record] = await store.getRecords([{ entityType, entityValue, category }]);
  return record;
}

export async function getMany(store: FeatureStore, entityType: string, entityValue: string, categories: readonly string[]): Promise<FeatureRecord[]> {
  const records = await store.getRecords(categories.map((category) => ({ entityType, entityValue, category })));
  return records.filter((r): r is FeatureRecord => r !== undefined);
}

export interface FlatWrite {
  entityType: string;
  entityValue: string;
  category: string;
  data: FeatureMap;
  computeId: string | null;
  now: string;
  eventTime?: string;
  event?: OutboxEvent;
}

export function writeInput(w: FlatWrite): WriteRecordInput {
  const { entityType, entityValue, category, ...rest } = w;
  return { key: { entityType, entityValue, category }, ...rest };
}
