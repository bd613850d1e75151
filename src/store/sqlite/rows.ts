/** Rows of an entity table as records, and the compute history a write stores. */
import { recordFromText, type ComputeHistoryEntry, type FeatureRecord, type RecordMeta } from '../../model.js';
import { isCanonicalTimestamp, normalizeTimestamp } from '../../timestamps.js';
import type { RecordKey, StoredRecord } from '../ports.js';
import type { Row, RowColumns } from './statements.js';

/** A record from its stored columns; `event_time` appears in the meta only when stored (responses are compared byte for byte). */
function recordOf(entityType: string, entityValue: string, category: string, data: string, createdAt: string, updatedAt: string, computeId: string | null, eventTime: string | null): FeatureRecord {
  return recordFromText({ entityType, entityValue, category, meta: metaOf(createdAt, updatedAt, computeId, eventTime) }, data);
}

/** A row as a record. */
export function toRecord(entityType: string, entityValue: string, row: Row): FeatureRecord {
  return recordOf(entityType, entityValue, row.category, row.data, row.created_at, row.updated_at, row.compute_id, row.event_time);
}

/** A row of the raw point or batch read of `key` (its columns from `offset` on) as a record. */
export function columnsToRecord(key: RecordKey, c: RowColumns | [number, ...RowColumns], offset: 0 | 1 = 0): FeatureRecord {
  const o = offset;
  return recordOf(key.entityType, key.entityValue, key.category, c[o] as string, c[o + 1] as string, c[o + 2] as string, c[o + 3] as string | null, c[o + 4] as string | null);
}

/** What a read makes of a row of `key` (its columns from `offset` on): a record, or its stored text and metadata. */
export type RowReader<T> = (key: RecordKey, c: RowColumns | [number, ...RowColumns], offset: 0 | 1) => T;

/** A row of the raw point or batch read (its columns from `offset` on) as the stored data and metadata texts (`RecordStore.getStoredNow`). */
export function columnsToStored(_key: RecordKey, c: RowColumns | [number, ...RowColumns], offset: 0 | 1 = 0): StoredRecord {
  const o = offset;
  return { data: c[o] as string, meta: metaText(c[o + 1] as string, c[o + 2] as string, c[o + 3] as string | null, c[o + 4] as string | null) };
}

/** A compute id `JSON.stringify` writes as it is, in quotes: no quote, backslash, control character or surrogate. */
// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const PLAIN_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/**
 * `JSON.stringify(metaOf(…))`, written directly when the columns are what a write stores
 * (canonical timestamps, which `normalizeTimestamp` leaves as they are, and a compute id with
 * nothing to escape), without building the object and serializing it; else as before.
 */
function metaText(createdAt: string, updatedAt: string, computeId: string | null, eventTime: string | null): string {
  if (
    isCanonicalTimestamp(createdAt) &&
    isCanonicalTimestamp(updatedAt) &&
    (computeId === null || PLAIN_STRING.test(computeId)) &&
    (eventTime === null || isCanonicalTimestamp(eventTime))
  ) {
    const event = eventTime === null ? '' : `,"event_time":"${eventTime}"`;
    return `{"created_at":"${createdAt}","updated_at":"${updatedAt}","compute_id":${computeId === null ? 'null' : `"${computeId}"`}${event}}`;
  }
  return JSON.stringify(metaOf(createdAt, updatedAt, computeId, eventTime));
}

/** The metadata object of a record from its stored columns (canonical timestamps). */
function metaOf(createdAt: string, updatedAt: string, computeId: string | null, eventTime: string | null): RecordMeta {
  const meta: RecordMeta = { created_at: normalizeTimestamp(createdAt), updated_at: normalizeTimestamp(updatedAt), compute_id: computeId };
  if (eventTime !== null) meta.event_time = normalizeTimestamp(eventTime);
  return meta;
}

const TIMESTAMP = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z`;
/**
 * The start of a `STORED_TEXT` row whose metadata text is already `JSON.stringify(meta)`: every
 * timestamp canonical (`normalizeTimestamp` leaves it as it is) and a compute id that is null or
 * has nothing `json_quote` and `JSON.stringify` escape (no quote, backslash or control character;
 * SQLite text holds no lone surrogate), so that SQL quoted it as `JSON.stringify` does. Sticky:
 * `lastIndex` is then where the data text starts.
 */
const CANONICAL_META = new RegExp(
  `\\{"created_at":"${TIMESTAMP}","updated_at":"${TIMESTAMP}","compute_id":(?:null|"[^"\\\\\\u0000-\\u001f]*")(?:,"event_time":"${TIMESTAMP}")?\\}\\u0001`,
  'y',
);

/**
 * A row of the stored-text statement (statements.ts `STORED_TEXT`: the metadata as JSON text,
 * U+0001, the data text) as a `StoredRecord`. The common row, canonical metadata (`CANONICAL_META`),
 * is split in two slices. Any other (timestamps in the old service's format, a compute id with
 * escapes) is parsed and written again the way `columnsToStored` writes it; `json_quote` wrote
 * every string of it, so the metadata text holds no raw control character and its end is the
 * first U+0001.
 */
export function textToStored(text: string): StoredRecord {
  CANONICAL_META.lastIndex = 0;
  if (CANONICAL_META.test(text)) {
    const at = CANONICAL_META.lastIndex;
    return { data: text.slice(at), meta: text.slice(0, at - 1) };
  }
  const at = text.indexOf('\u0001');
  const m = JSON.parse(text.slice(0, at)) as { created_at: string; updated_at: string; compute_id: string | null; event_time?: string };
  return { data: text.slice(at + 1), meta: JSON.stringify(metaOf(m.created_at, m.updated_at, m.compute_id, m.event_time ?? null)) };
}

/**
 * The compute history after this write, as the JSON array to store: this write's entry, then the
 * stored entries, cut to `historySize` (newest first). Null when history is off: the stored
 * history is kept as it is.
 */
export function nextHistory(input: { historySize?: number | undefined; computeId: string | null; now: string }, stored: string | null): string | null {
  const size = input.historySize ?? 0;
  if (size <= 0) return null;
  const entry: ComputeHistoryEntry = { compute_id: input.computeId, timestamp: input.now };
  if (stored === null) return `[${JSON.stringify(entry)}]`;
  // The stored array as text, cut after its (size-1)-th entry: 1 µs instead of 6 for a parse and
  // a stringify of ten entries. Entries are `{"compute_id":…,"timestamp":…}` as JSON.stringify
  // (and SQLite's json_object before it) wrote them; inside a string a quote is escaped, so
  // `},{"compute_id":` occurs only between two entries. Any other text takes the parse.
  if (stored.startsWith(FIRST) && stored.endsWith('}]')) {
    let cut = stored.length - 1; // keep every stored entry
    for (let kept = 1, at = 0; kept < size; kept++) {
      at = stored.indexOf(BETWEEN, at + 1);
      if (at === -1) break;
      if (kept === size - 1) cut = at + 1;
    }
    if (size === 1) cut = 0;
    return cut === 0 ? `[${JSON.stringify(entry)}]` : `[${JSON.stringify(entry)},${stored.slice(1, cut)}]`;
  }
  const entries = JSON.parse(stored) as ComputeHistoryEntry[];
  entries.unshift(entry);
  if (entries.length > size) entries.length = size;
  return JSON.stringify(entries);
}

const FIRST = '[{"compute_id":';
const BETWEEN = '},{"compute_id":';
