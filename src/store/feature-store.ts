import type { FeatureMap, FeatureRecord, OutboxEvent, RecordMeta } from '../model.js';

/**
 * The storage contract every backend implements (one file per backend, selected by
 * `STORE`). The universal suite in test/store/contract.ts holds every backend to it.
 *
 * Common rules:
 * - Entity types are separate keyspaces: the same entity value under two types is two records.
 * - Timestamps passed in are canonical (`2025-10-16T10:00:00.000Z`); timestamps returned are
 *   canonical too, whatever form an older writer stored them in.
 * - Infrastructure failures reject with the typed errors of `errors.ts`
 *   (`StoreUnavailableError`, `StoreThrottledError`, `TableMissingError`), never with a
 *   "not found" result.
 * - Callers pass only entity types from configuration; the store may assume they exist.
 */
export interface FeatureStore {
  /** Backend name as reported in health and metrics (`sqlite`, `dynamodb`). */
  readonly type: string;

  /** Records waiting to be published as events; written atomically by `writeCategory`. */
  readonly outbox: OutboxStore;

  /**
   * Replaces the whole record (entity type, entity value, category) with `data`, in one atomic
   * operation and one round trip, without reading first:
   * - `created_at` is set to `now` only if the record did not exist; otherwise the stored value
   *   is kept, also when concurrent first writes race (exactly one creation time survives).
   * - `updated_at` becomes `now`; `compute_id` becomes `computeId` (null is stored as null).
   * - If `event` is given it is recorded in the outbox atomically with the write: either both
   *   are durable or neither is.
   * Resolves with the record's metadata after the write (created_at as stored, canonical).
   */
  writeCategory(input: WriteCategoryInput): Promise<RecordMeta>;

  /** One record, or `undefined` when it does not exist. One round trip. */
  getCategory(entityType: string, entityValue: string, category: string): Promise<FeatureRecord | undefined>;

  /**
   * The records that exist among `categories` (distinct names) for one entity, in one round
   * trip (one query / one batch call). Missing categories are simply absent from the result;
   * order of the result is unspecified.
   */
  getCategories(entityType: string, entityValue: string, categories: readonly string[]): Promise<FeatureRecord[]>;

  /** Really checks the backend. Never rejects: failures are reported as `ok: false`. */
  health(): Promise<StoreHealth>;

  /** Releases connections and file handles. Idempotent. */
  close(): Promise<void>;
}

export interface WriteCategoryInput {
  entityType: string;
  entityValue: string;
  category: string;
  data: FeatureMap;
  computeId: string | null;
  /** Canonical timestamp of this write. */
  now: string;
  /** The change event to record atomically with the write; omitted when events are off. */
  event?: OutboxEvent;
}

export interface StoreHealth {
  ok: boolean;
  /** Configured tables that really exist. */
  tablesAvailable: string[];
  /** Operator-facing reason when not ok (logged, not returned to callers verbatim). */
  error?: string;
}

/**
 * The transactional outbox. Several relays (one per service instance) may work on it at once:
 * `claim` leases events so that two relays rarely publish the same one; when a lease expires the
 * event is claimable again, so delivery is at-least-once and duplicates carry the same id.
 */
export interface OutboxStore {
  /**
   * Leases up to `limit` events that are not leased by anyone (or whose lease expired), oldest
   * first, to `owner` for `leaseMs`. Resolves with them in write order.
   */
  claim(owner: string, limit: number, leaseMs: number): Promise<OutboxEvent[]>;

  /** Deletes events that were published. Unknown ids are ignored. */
  complete(ids: readonly string[]): Promise<void>;

  /** Ends the lease on events that could not be published so that they are retried. */
  release(ids: readonly string[]): Promise<void>;

  /** Number of events not yet published, and the timestamp of the oldest one (or null). */
  stats(): Promise<OutboxStats>;
}

export interface OutboxStats {
  pending: number;
  oldestCreatedAt: string | null;
}
