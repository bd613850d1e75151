import type { ComputeHistoryEntry, FeatureRecord, OutboxEvent } from '../model.js';
import type { RecordKey, WriteRecordInput, RecordVersions, WriteResult, MergeRecordInput, MergeResult, ComputeJobQuery, ComputeJobPage, CategoryListQuery, CategoryListPage, DeleteRecordInput, StoredRecord } from './record-shapes.js';

export type * from './record-shapes.js';

/**
 * The storage ports every backend implements (one folder per backend under src/store/, selected
 * by `STORE` in create-store.ts). The universal suite in test/store/contract.ts holds every
 * registered backend to these contracts.
 *
 * Common rules:
 * - Entity types are separate keyspaces: the same entity value under two types is two records.
 * - Timestamps passed in are canonical (`2025-10-16T10:00:00.000Z`); timestamps returned are
 *   canonical too, whatever form an older writer stored them in. Canonical timestamps compare
 *   correctly as strings (fixed width, UTC).
 * - Infrastructure failures reject with the typed errors of `errors.ts`
 *   (`StoreUnavailableError`, `StoreThrottledError`, `TableMissingError`), never with a
 *   "not found" result. A key the backend cannot hold at all rejects a write with
 *   `KeyNotStorableError` and reads as missing.
 * - Callers pass only entity types from configuration; the store may assume they exist.
 */

/** Records: the data path. */
export interface RecordStore {
  /**
   * The records for `keys`, aligned to the input: `result[i]` is the record of `keys[i]`, or
   * `undefined` when it does not exist. Duplicate keys are allowed and each gets the record.
   * Batch-first: SQLite answers with one statement per entity type table (a batch of many
   * entities: one per category, in one read transaction), DynamoDB with BatchGetItem
   * chunks of 100 keys issued in parallel, unprocessed keys retried with backoff, then
   * `StoreThrottledError`. An empty input resolves with `[]` without touching the backend.
   */
  getRecords(keys: readonly RecordKey[]): Promise<(FeatureRecord | undefined)[]>;

  /**
   * Optional: `getRecords` answered on the calling thread, for a backend that reads local
   * storage synchronously (SQLite). Same result, same consistency; it throws where `getRecords`
   * rejects. A read that needs no promise costs no round trip through the store wrappers and
   * the event loop's microtask queue. A wrapper offers it only when it keeps the wrapper's own
   * contract (instrumented-store.ts times it; `delegate` leaves it out, see delegate.ts).
   */
  getRecordsNow?(keys: readonly RecordKey[]): (FeatureRecord | undefined)[];

  /**
   * Optional, beside `getRecordsNow`: the same read as text, for a batch read whose response
   * splices it (no record or metadata objects: measured ~1.4 µs less per entity of a batch,
   * decision record 6, round 5; the metadata as one text, round 6). `result[i]` holds what
   * `getRecordsNow` gives for `keys[i]`: its data's stored JSON text and its metadata's JSON
   * text, or undefined. A wrapper offers it exactly when it offers `getRecordsNow` (delegate.ts
   * `readsNowOf`).
   */
  getStoredNow?(keys: readonly RecordKey[]): (StoredRecord | undefined)[];

  /**
   * Replaces the whole record with `input.data`, in one atomic operation, without reading first:
   * - `created_at` is set to `now` only if the record did not exist; otherwise the stored value
   *   is kept, also when concurrent first writes race (exactly one creation time survives).
   * - `updated_at` becomes `now`; `compute_id` becomes `computeId` (null is stored as null);
   *   the event time becomes `eventTime` (or none).
   * - The event-time condition (see `WriteRecordInput.eventTime`) is checked in the same atomic
   *   operation (no read-then-write).
   * - If `event` is given it is recorded in the outbox atomically with the write: either both
   *   are durable or neither is. A stale write records no event.
   */
  writeRecord(input: WriteRecordInput): Promise<WriteResult>;

  /**
   * Merges `input.set` into the stored features and removes `input.remove`, in one atomic
   * operation per attempt, without a read-then-write race:
   * - Concurrent merges never lose each other's features: two merges of different features
   *   both survive; of the same feature, one of them wins.
   * - A missing record is created with `set` (and `created_at` = `now`); otherwise `created_at`
   *   is kept. `updated_at` becomes `now`, `compute_id` becomes `computeId`, and the stored
   *   event time is cleared (as by a write without one).
   * - If `event` is given it is recorded in the outbox atomically with the merge.
   * - Merging may leave a record with no features; it stays a record.
   */
  mergeRecord(input: MergeRecordInput): Promise<MergeResult>;

  /**
   * The compute history of one record: the compute ids of its latest applied writes that kept
   * history (`RecordChangeInput.historySize`), newest first, at most `limit` (≥ 1) entries.
   * Resolves with `undefined` when the record does not exist, and with `[]` for a record that
   * has none (written by the old service or while the history was off). A deleted record's
   * history goes with it. Read with the same consistency as `getRecords`.
   */
  getComputeHistory(key: RecordKey, limit: number): Promise<ComputeHistoryEntry[] | undefined>;

  /**
   * The record and at most `limit` of its kept earlier versions (`RecordChangeInput.versionsKept`),
   * newest first; `undefined` when the record does not exist. A record written while versions
   * were off has fewer (or none). A deleted record's versions go with it. Read with the same
   * consistency as `getRecords`.
   */
  getVersions(key: RecordKey, limit: number): Promise<RecordVersions | undefined>;

  /**
   * The records of `query.entityType` whose **current** compute_id is `query.computeId` (a record
   * rewritten by another job, or with a null compute_id, is not listed), optionally of one
   * category; ordered by category, then in an order the backend keeps stable (SQLite: entity
   * value; DynamoDB: the index's own order), at most `limit`, starting after `query.after`, so
   * that paging on with the last record returned never skips or repeats a record that did not
   * change meanwhile. An unknown compute id yields no records. Served by an index, never a scan:
   * SQLite an index on (compute_id, category); DynamoDB the `by_compute_id` global secondary
   * index, which is eventually consistent (a write shows up within about a second) and holds
   * only items written by this version or later, or indexed by `feature-store lineage backfill`.
   */
  findByComputeId(query: ComputeJobQuery): Promise<ComputeJobPage>;
  /**
   * Every record of `query.category` of one entity type, whole, in pages of at most `limit`, in
   * an order the backend keeps stable (records written after the listing started may or may not
   * be in it). For export, not for serving: SQLite walks the primary key (entity value,
   * category) skipping other categories; DynamoDB scans the table with a filter (a page reads at
   * most a few MB, so a page of a rare category can be short or empty while more follow).
   * Expired records are included (the service hides them).
   */
  listCategory(query: CategoryListQuery): Promise<CategoryListPage>;

  /**
   * How many records of `entityType` have `computeId` as their current compute_id: the count
   * of `findByComputeId` over every page, from the same index (never a scan; on DynamoDB as
   * eventually consistent as the query).
   */
  countByComputeId(entityType: string, computeId: string): Promise<number>;

  /**
   * Deletes one record and, atomically with it, records the event built by `input.event` from
   * the deleted record. Resolves with the deleted record, or `undefined` (and no event) when
   * there was none. A later write of the same key creates a new record (a new `created_at`).
   */
  deleteRecord(input: DeleteRecordInput): Promise<FeatureRecord | undefined>;
}

export interface SweepExpiredInput {
  /** Canonical time: records whose stored expiry (`RecordChangeInput.expiresAt`) is at or before it go. */
  readonly now: string;
  /** At most this many records per call (one bounded transaction). */
  readonly limit: number;
  /** Builds the change event of each removed record, recorded atomically with its deletion. */
  readonly event?: ((deleted: FeatureRecord) => OutboxEvent) | undefined;
}

/**
 * Physical removal of expired records, for backends without native expiry (SQLite). DynamoDB
 * has none: its native TTL deletes items on the table's own schedule.
 */
export interface ExpiredRecordSweeper {
  /**
   * Deletes up to `limit` expired records, oldest expiry first, each with its event in the same
   * transaction. A record rewritten before the sweep commits is not expired any more and stays.
   * Resolves with the number deleted; fewer than `limit` means none are left.
   */
  sweepExpired(input: SweepExpiredInput): Promise<number>;
}

/**
 * The transactional outbox. Several relays (one per service instance) may work on it at once:
 * `claim` leases events so that two relays rarely publish the same one; when a lease expires the
 * event is claimable again, so delivery is at-least-once and duplicates carry the same id.
 * Events of one record key are claimed in the order their writes were applied.
 * Pending events survive the deletion or expiry of the record they describe.
 */
export interface OutboxStore {
  /**
   * Leases up to `limit` events that are not leased by anyone (or whose lease expired), oldest
   * first, to `owner` for `leaseMs`. Resolves with them in write order.
   */
  claim(owner: string, limit: number, leaseMs: number): Promise<OutboxEvent[]>;

  /**
   * Deletes events that were published. Unknown ids are ignored. In the same atomic step as each
   * deletion, the `feature_available` events deleted that carry a compute_id are added to the
   * store's compute-job statistics (`FeatureStore.computeJobs`): an event is counted exactly when
   * it leaves the outbox, so a crash between publish and `complete` republishes it (at least
   * once) but counts it once.
   */
  complete(ids: readonly string[]): Promise<void>;

  /** Ends the lease on events that could not be published so that they are retried. */
  release(ids: readonly string[]): Promise<void>;

  /** Number of events not yet published, and the timestamp of the oldest one (or null). */
  stats(): Promise<OutboxStats>;
}

/**
 * Writes by one compute job, summed over some writes: what the statistics grow by, and (summed
 * over every write counted so far) what they hold. Timestamps are canonical `updated_at`s.
 */
export interface JobWrites {
  readonly computeId: string;
  /** Applied writes and merges that carried this compute_id (a rewrite counts again). */
  readonly writes: number;
  readonly firstWriteAt: string;
  readonly lastWriteAt: string;
  /** Writes per category. */
  readonly categories: Readonly<Record<string, number>>;
  /** Writes per entity type. */
  readonly entityTypes: Readonly<Record<string, number>>;
}

export interface JobListQuery {
  /** At most this many jobs (≥ 1). */
  readonly limit: number;
  /** Continue after this job: the last one of the previous page (same query). */
  readonly after?: { readonly lastWriteAt: string; readonly computeId: string } | undefined;
  /** Only jobs that wrote this category. */
  readonly category?: string | undefined;
}

/**
 * Per compute job statistics, derived from the writes asynchronously (see `OutboxStore.complete`,
 * and for stores without events the service's recorder). Never touched by the write path.
 */
export interface ComputeJobStatsStore {
  /**
   * Adds `writes` (at most one entry per compute id) to the statistics: counts are summed, the
   * first and last write times become the minimum and maximum. Not idempotent.
   */
  add(writes: readonly JobWrites[]): Promise<void>;

  /** One job's totals, or undefined when nothing was counted for it. */
  get(computeId: string): Promise<JobWrites | undefined>;

  /**
   * Jobs ordered by `lastWriteAt`, latest first (ties: compute id, descending), at most
   * `limit`, starting after `query.after`. Served by an index on the last write time. A job
   * that writes while a client pages may move to the front (and be skipped by that client).
   */
  list(query: JobListQuery): Promise<{ jobs: JobWrites[]; more: boolean }>;
}

export interface OutboxStats {
  pending: number;
  oldestCreatedAt: string | null;
}

export interface StoreHealth {
  ok: boolean;
  /** Configured tables that really exist. */
  tablesAvailable: string[];
  /** Operator-facing reason when not ok (logged, not returned to callers verbatim). */
  error?: string;
}

/** Progress of the rollback of one compute job (service rollback.ts), kept by the store so that it survives a restart. */
export interface RollbackState {
  readonly computeId: string;
  readonly status: 'running' | 'done';
  readonly deleteUnversioned: boolean;
  readonly restored: number;
  readonly skipped: number;
  readonly deleted: number;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** Where the next batch starts: an entity type and the last record done in it (none: from its start). */
  readonly position: { readonly entityType: string; readonly after?: { readonly entityValue: string; readonly category: string } | undefined } | null;
}

/**
 * Rollback states, one per compute job. With several instances on one store, a lease on the
 * state says which instance works on a rollback: only the holder saves progress.
 */
export interface RollbackStateStore {
  /** Stores `state` unless the job has one; resolves with the stored state (the existing one, or `state`). */
  create(state: RollbackState): Promise<RollbackState>;
  get(computeId: string): Promise<RollbackState | undefined>;
  /** Compute ids of the rollbacks still running (to resume after a restart). */
  running(): Promise<string[]>;
  /**
   * Takes (or renews) the lease on a rollback for `owner` until `untilMs`, if nobody else holds
   * an unexpired one at `nowMs`. Resolves with whether `owner` holds it.
   */
  lease(computeId: string, owner: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Saves progress if `owner` still holds the lease; resolves with whether it did. */
  save(state: RollbackState, owner: string): Promise<boolean>;
}

/** A backend: the record port, its outbox, and lifecycle. */
export interface FeatureStore extends RecordStore {
  /** Backend name as reported in health and metrics (`sqlite`, `dynamodb`). */
  readonly type: string;

  /** Events waiting to be published; written atomically by `writeRecord` and `deleteRecord`. */
  readonly outbox: OutboxStore;

  /** Per compute job statistics (job analytics). */
  readonly computeJobs: ComputeJobStatsStore;
  /** Rollback states (persistent, leased). */
  readonly rollbacks: RollbackStateStore;

  /** Present on backends that must remove expired records themselves. */
  readonly sweeper?: ExpiredRecordSweeper | undefined;

  /** Really checks the backend. Never rejects: failures are reported as `ok: false`. */
  health(): Promise<StoreHealth>;

  /** Commits what was accepted, then releases connections and file handles. Idempotent. */
  close(): Promise<void>;
}
