import type { FeatureStoreClient, RecordResponse } from '../../packages/client/src/index.js';
import type { BulkRecord } from './records.js';

/**
 * `feature-store export`: the records of one entity type and category as JSONL lines in the
 * import format (records.ts), so `export | import` round-trips. With a compute id, the records
 * whose current compute_id it is (the by-compute-id query, then batch reads of 100); without,
 * every record of the category (the by-category listing, whole records per page).
 */
export interface ExportOptions {
  client: FeatureStoreClient;
  entityType: string;
  category: string;
  computeId: string | undefined;
  /** Writes one line; resolves when the output can take more (backpressure). */
  write: (line: string) => Promise<void>;
}

const READ_BATCH = 100;

/** The bulk line of a record as the API returns it. */
export function bulkRecord(entityType: string, record: RecordResponse): BulkRecord {
  const entityValue = (record as unknown as Record<string, unknown>)[entityType];
  const line: BulkRecord = {
    entity_type: entityType,
    entity_value: String(entityValue),
    category: record.category,
    features: record.features.data,
    compute_id: record.features.meta.compute_id,
  };
  if (record.features.meta.event_time !== undefined) line.event_time = record.features.meta.event_time;
  return line;
}

/** Resolves with the number of records written. */
export async function runExport(options: ExportOptions): Promise<number> {
  const { client, entityType, category } = options;
  let count = 0;
  const emit = async (record: RecordResponse): Promise<void> => {
    await options.write(`${JSON.stringify(bulkRecord(entityType, record))}\n`);
    count++;
  };
  if (options.computeId === undefined) {
    for await (const record of client.byCategory(category, { entityType, pageSize: 500 })) await emit(record);
    return count;
  }
  let values: string[] = [];
  const flush = async (): Promise<void> => {
    if (values.length === 0) return;
    const batch = await client.readBatch({ entityType, entityValues: values, featureList: [`${category}:*`] });
    values = [];
    // A record deleted since it was listed is left out; one rewritten since is exported as it is now.
    for (const result of batch.results) {
      const record = result.items[category];
      if (record !== undefined) await emit(record);
    }
  };
  for await (const ref of client.byComputeId(options.computeId, { entityType, category, pageSize: 1000 })) {
    values.push(ref.entity_value);
    if (values.length === READ_BATCH) await flush();
  }
  await flush();
  return count;
}
