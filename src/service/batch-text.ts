/**
 * The batch read answered as text (`readsNow.readFeaturesBatchText`): the store's data and
 * metadata texts (`RecordStore.getStoredNow`) shown as the record path shows records — narrowed
 * to the selection on the text, with `expires_at` while the category has a TTL, expired ones
 * missing — without a record, metadata or result object per entity. The HTTP layer splices it.
 */
import { recordFromText, type FeatureRecord, type RecordMeta } from '../model.js';
import { isCanonicalTimestamp } from '../timestamps.js';
import type { StoredRecord } from '../store/ports.js';
import type { Expiry } from './expiry.js';
import { selectedText, type FeatureSelection } from './feature-selection.js';
import type { FeatureBatchOutput, FeatureBatchTextOutput, ShownRecord } from './service-types.js';

/**
 * `found[e * categories.length + c]` (entity `e`, category `c`) as the read shows it, and
 * `hits[c]`: how many records of category `c` it shows.
 */
export function showStored(
  found: readonly (StoredRecord | undefined)[],
  categories: readonly string[],
  selections: readonly FeatureSelection[],
  expiry: Pick<Expiry, 'hasTtl' | 'shownExpiry'>,
  nowMs: number,
): { records: (ShownRecord | undefined)[]; hits: number[] } {
  const n = categories.length;
  const hits = new Array<number>(n).fill(0);
  const records = new Array<ShownRecord | undefined>(found.length).fill(undefined);
  // `updated_at` is taken from the metadata text only for a category with a TTL.
  const timed = categories.map((category) => expiry.hasTtl(category));
  for (let i = 0; i < found.length; i++) {
    const stored = found[i];
    if (stored === undefined) continue;
    const c = i % n;
    const expiresAt = timed[c] === true ? expiry.shownExpiry(categories[c] as string, updatedAtOf(stored.meta), nowMs) : undefined;
    if (expiresAt === null) continue;
    const selection = selections[c] as FeatureSelection;
    hits[c] = (hits[c] as number) + 1;
    // The store's object as it is in the common case (a whole category without a TTL).
    records[i] =
      expiresAt === undefined && selection === '*'
        ? stored
        : {
            data: selectedText(stored.data, selection),
            meta: expiresAt === undefined ? stored.meta : `${stored.meta.slice(0, -1)},"expires_at":${JSON.stringify(expiresAt)}}`,
          };
  }
  return { records, hits };
}

/** The text answer as the record path's (`FeatureBatchOutput`), for a response that cannot be spliced from the text. */
export function batchOutputOfText(out: FeatureBatchTextOutput): FeatureBatchOutput {
  const { entityType, categories } = out;
  const n = categories.length;
  return {
    entityType,
    results: out.entityValues.map((entityValue, e) => {
      const records: FeatureRecord[] = [];
      const missing: string[] = [];
      categories.forEach((category, c) => {
        const shown = out.records[e * n + c];
        if (shown === undefined) missing.push(category);
        else records.push(recordFromText({ entityType, entityValue, category, meta: metaOf(shown) }, shown.data));
      });
      return { entityType, entityValue, records, unavailable: [...missing, ...out.refused] };
    }),
  };
}

/** The metadata object of a shown record, its keys in the record path's order (the text's). */
function metaOf(shown: ShownRecord): RecordMeta {
  return JSON.parse(shown.meta) as RecordMeta;
}

/**
 * `updated_at` of a stored metadata text (`{"created_at":…,"updated_at":…,…}`). With a canonical
 * `created_at` (24 characters) the value starts at a fixed place: a `"` right after a `,` closes
 * a JSON string (inside one every `"` follows a backslash), so `","updated_at":"` at 39 is the
 * key, and 24 canonical characters closed by a `"` are its whole value. Else parsed.
 */
function updatedAtOf(meta: string): string {
  if (meta.startsWith('","updated_at":"', 39) && meta.charCodeAt(79) === 34) {
    const value = meta.slice(55, 79);
    if (isCanonicalTimestamp(value)) return value;
  }
  return (JSON.parse(meta) as RecordMeta).updated_at;
}
