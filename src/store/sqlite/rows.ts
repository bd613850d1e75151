/** Rows of an entity table as records, and the compute history a write stores. */
import { recordFromText, type ComputeHistoryEntry, type FeatureRecord, type RecordMeta } from '../../model.js';
import { normalizeTimestamp } from '../../timestamps.js';
import type { Row, RowColumns } from './statements.js';

/** A row as a record; `event_time` appears in the meta only when stored (responses are compared byte for byte). */
export function toRecord(entityType: string, entityValue: string, row: Row): FeatureRecord {
  const meta: RecordMeta = {
    created_at: normalizeTimestamp(row.created_at),
    updated_at: normalizeTimestamp(row.updated_at),
    compute_id: row.compute_id,
  };
  if (row.event_time !== null) meta.event_time = normalizeTimestamp(row.event_time);
  return recordFromText({ entityType, entityValue, category: row.category, meta }, row.data);
}

/** A row of the raw point or batch read (its columns from `offset` on) as a record. */
export function columnsToRecord(entityType: string, entityValue: string, c: RowColumns | [number, ...RowColumns] | [number, number, ...RowColumns], offset: 0 | 1 | 2 = 0): FeatureRecord {
  const eventTime = c[offset + 5] as string | null;
  const meta: RecordMeta = {
    created_at: normalizeTimestamp(c[offset + 2] as string),
    updated_at: normalizeTimestamp(c[offset + 3] as string),
    compute_id: c[offset + 4] as string | null,
  };
  if (eventTime !== null) meta.event_time = normalizeTimestamp(eventTime);
  return recordFromText({ entityType, entityValue, category: c[offset] as string, meta }, c[offset + 1] as string);
}

/**
 * The compute history after this write, as the JSON array to store: this write's entry, then the
 * stored entries, cut to `historySize` (newest first). Null when history is off: the stored
 * history is kept as it is.
 */
export function nextHistory(input: { historySize?: number | undefined; computeId: string | null; now: string }, stored: string | null): string | null {
  const size = input.historySize ?? 0;
  if (size <= 0) return null;
  const entries = stored === null ? [] : (JSON.parse(stored) as ComputeHistoryEntry[]);
  entries.unshift({ compute_id: input.computeId, timestamp: input.now });
  if (entries.length > size) entries.length = size;
  return JSON.stringify(entries);
}
