import type { ComputeJobRecord, FeatureMap, FeatureRecord, OutboxEvent } from '../model.js';

/**
 * What the record port (`RecordStore`, ports.ts) takes and gives: keys, write, merge and delete
 * inputs, their results, kept versions, pages of the by-compute-id and category listings, and
 * records as stored text. The common rules of ports.ts apply; ports.ts re-exports them all, so
 * importers of the ports find them there.
 */

/** Identifies one record: (entity type, entity value, category). */
export interface RecordKey {
  readonly entityType: string;
  readonly entityValue: string;
  readonly category: string;
}

/**
 * What a write and a merge both carry: the record, the new compute id and timestamp, and what
 * an applied change does beside the record, atomically with it. A stale or superseded change
 * does none of it.
 */
export interface RecordChangeInput {
  readonly key: RecordKey;
  readonly computeId: string | null;
  /** Canonical timestamp of this change. */
  readonly now: string;
  /**
   * Canonical time from which the backend may remove the record physically (its category's TTL
   * at this change), or undefined: never. A later change replaces it. Stores do not hide expired
   * records from reads; the service does, with the TTL in force at the read.
   */
  readonly expiresAt?: string | undefined;
  /**
   * Compute history to keep (see `RecordStore.getComputeHistory`): an applied change puts
   * `{compute_id: computeId, timestamp: now}` first in the record's history and keeps at most
   * `historySize` entries, atomically with the change (no read before it). 0 or undefined: the
   * history is left as stored.
   */
  readonly historySize?: number | undefined;
  /**
   * Earlier versions to keep (see `RecordStore.getVersions`): an applied change keeps the values
   * it replaces as an earlier version, atomically with the change, and at most this many earlier
   * versions of the record. 0 or undefined: versions are left as stored (nothing added, nothing
   * read, no request or statement of its own).
   */
  readonly versionsKept?: number | undefined;
  /** The change event to record atomically with the change; omitted when events are off. */
  readonly event?: OutboxEvent | undefined;
}

export interface WriteRecordInput extends RecordChangeInput {
  /** The complete new feature map (full replace). */
  readonly data: FeatureMap;
  /**
   * Canonical event time of this write (as of when the features were computed), or undefined.
   * With one, the write applies only if the stored record has no event time or one that is not
   * later than this (equal applies); otherwise it is `stale` and changes nothing. Without one,
   * the write always applies and the stored record keeps no event time.
   */
  readonly eventTime?: string | undefined;
  /**
   * A restore (rollback of a compute job): the write applies only if the record exists and its
   * current compute_id is this one, checked in the same atomic operation; otherwise it is
   * `superseded` and changes nothing. The event-time condition is not checked (the restored
   * version is older by design); `eventTime` is stored as given.
   */
  readonly onlyIfComputeId?: string | undefined;
}

/** One kept earlier value of a record: what a write replaced. */
export interface RecordVersion {
  readonly data: FeatureMap;
  readonly computeId: string | null;
  /** Canonical; undefined when that write gave none. */
  readonly eventTime?: string | undefined;
  /** Canonical `updated_at` of that write. */
  readonly updatedAt: string;
}

/** A record and its kept earlier versions, newest first. */
export interface RecordVersions {
  readonly record: FeatureRecord;
  readonly earlier: RecordVersion[];
}

/** The metadata a write left on the record. */
export interface WrittenMeta {
  /**
   * `created_at` as stored: `now` for a new record, the kept value otherwise. `undefined` when
   * the backend cannot learn it without another request (DynamoDB transactions return nothing).
   */
  readonly created_at: string | undefined;
  /** True when this write created the record; undefined when the backend cannot tell. */
  readonly created: boolean | undefined;
  readonly updated_at: string;
  readonly compute_id: string | null;
  readonly event_time?: string;
}

export type WriteResult =
  | { readonly outcome: 'applied'; readonly meta: WrittenMeta }
  /** Nothing changed and no event was recorded: the stored record has a later event time. */
  | { readonly outcome: 'stale'; readonly storedEventTime: string }
  /** Only with `onlyIfComputeId`: the record is gone or another write replaced it; nothing changed. */
  | { readonly outcome: 'superseded' };

/** A merge: a write of its compute id whose merged values replace the stored ones. */
export interface MergeRecordInput extends RecordChangeInput {
  /** Top-level features to add or replace (name → value); every other stored feature is kept. */
  readonly set: FeatureMap;
  /** Top-level features to remove; names the record does not hold are ignored. Disjoint from `set`. */
  readonly remove: readonly string[];
  /**
   * A stored record last written before this canonical time has expired (its category's TTL):
   * the merge starts from no features, as a merge into a missing record does, instead of
   * bringing the expired ones back. Checked in the same atomic operation as the merge.
   */
  readonly expiredBefore?: string | undefined;
}

export interface MergeResult {
  /**
   * Number of top-level features the record holds after this merge. A backend that cannot learn
   * it from the merge itself (DynamoDB transactions return nothing) reads it right after with a
   * strongly consistent read, so a change made in between may be counted too.
   */
  readonly featureCount: number;
  /** True when this merge created the record. */
  readonly created: boolean;
}

/** A by-compute-id query over one entity type (see `RecordStore.findByComputeId`). */
export interface ComputeJobQuery {
  readonly entityType: string;
  readonly computeId: string;
  /** Only records of this category. */
  readonly category?: string | undefined;
  /** At most this many records (≥ 1). */
  readonly limit: number;
  /** Continue after this record: the last one of the previous page (same query). */
  readonly after?: { readonly entityValue: string; readonly category: string } | undefined;
}

export interface ComputeJobPage {
  readonly records: ComputeJobRecord[];
  /** True when more records follow the last one returned. */
  readonly more: boolean;
}

/** A page of every record of one category of one entity type (see `RecordStore.listCategory`). */
export interface CategoryListQuery {
  readonly entityType: string;
  readonly category: string;
  /** At most this many records (≥ 1). */
  readonly limit: number;
  /** Continue after this position: the `next` of the previous page (same query). */
  readonly after?: CategoryListPosition | undefined;
}

/** A position in a backend's listing order (a record key; on DynamoDB maybe of another category). */
export interface CategoryListPosition {
  readonly entityValue: string;
  readonly category: string;
}

export interface CategoryListPage {
  readonly records: FeatureRecord[];
  /** Where the next page starts; undefined after the last. A page may be short, even empty, with a next. */
  readonly next: CategoryListPosition | undefined;
}

export interface DeleteRecordInput {
  readonly key: RecordKey;
  /** Canonical timestamp of the delete. */
  readonly now: string;
  /**
   * Builds the change event from the record being deleted (its feature names go into the
   * event); the store records it atomically with the delete. Omitted when events are off.
   */
  readonly event?: ((deleted: FeatureRecord) => OutboxEvent) | undefined;
  /** Deletes only a record whose current compute_id is this one (a rollback's delete); else resolves with undefined. */
  readonly onlyIfComputeId?: string | undefined;
}

/**
 * A record as stored, for a response that splices it as text (`RecordStore.getStoredNow`): no
 * record object, no metadata object. The key is the caller's.
 */
export interface StoredRecord {
  /** The features as the JSON text `JSON.stringify` wrote (the text a record from text holds, model.ts). */
  readonly data: string;
  /**
   * The metadata as JSON text, byte for byte `JSON.stringify(record.meta)` of the record
   * `getRecordsNow` gives: `created_at`, `updated_at` (canonical), `compute_id`, then
   * `event_time` only when the latest write gave one.
   */
  readonly meta: string;
}
