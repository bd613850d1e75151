/**
 * The feature service's inputs and outputs (domain types, not wire shapes: src/http builds
 * those). feature-service.ts re-exports them.
 */
import type { Config } from '../config.js';
import type { ComputeHistoryEntry, FeatureRecord } from '../model.js';
import type { Metrics } from '../metrics.js';
import type { FeatureStore, RecordKey, StoreHealth, StoredRecord } from '../store/ports.js';
import type { Clock } from '../timestamps.js';

/** What the event pipeline reports to health checks. */
export interface EventPipelineHealth {
  status: 'ok' | 'degraded';
  pending: number | null;
  oldestPendingAgeSeconds: number | null;
  /** Why the pipeline is `degraded` (absent when `ok`). */
  reason?: string;
}

export interface EventPipelineStatus {
  health(): Promise<EventPipelineHealth>;
}

export interface FeatureServiceDeps {
  store: FeatureStore;
  config: Pick<Config, 'entityTables' | 'categories' | 'writeSources' | 'batchMaxEntities' | 'kafka' | 'categoryTtlMs' | 'lineage' | 'versions'>;
  clock: Clock;
  metrics: Metrics;
  /** Present when events are on; reported in health. */
  events?: EventPipelineStatus;
  /** Event id generator (UUID v4 by default). */
  newId?: () => string;
}

/** A write of one whole category (full replace). Values are as the caller sent them. */
export interface WriteInput {
  source: string;
  /** Undefined when the caller sent none (refused when `COMPUTE_ID_REQUIRED`), null when it sent null. */
  computeId?: string | null | undefined;
  /**
   * As of when the features were computed: RFC 3339 with any offset, as sent; undefined or null
   * when not given. With one, an older write than the stored record's is refused (stale).
   */
  eventTime?: string | null | undefined;
  entityType: string;
  entityValue: string;
  category: string;
  features: Record<string, unknown>;
}

export interface WriteOutput {
  key: RecordKey;
  /** Number of top-level features written. */
  featureCount: number;
}

/** The compute history of one record, newest first. */
export interface ComputeHistoryOutput {
  key: RecordKey;
  history: ComputeHistoryEntry[];
}

/** Selected features of one entity across categories: `category:feature` or `category:*`. */
export interface FeatureSelectionInput {
  entityType: string;
  entityValue: string;
  featureList: readonly string[];
}

export interface FeatureSelectionOutput {
  entityType: string;
  entityValue: string;
  /** The records found, in order of first mention, each narrowed to the selected features. */
  records: FeatureRecord[];
  /** Allowed categories without a record, then categories not on the allow-list (request order). */
  unavailable: string[];
}

/** The multi-read's selection for many entities of one type. */
export interface FeatureBatchInput {
  entityType: string;
  /** Answered in this order; duplicates allowed. At most `batchMaxEntities`. */
  entityValues: readonly string[];
  featureList: readonly string[];
}

export interface FeatureBatchOutput {
  entityType: string;
  /** One selection per requested entity value, in request order. */
  results: FeatureSelectionOutput[];
}

/**
 * A record as a read shows it, as text: the selected features' JSON text (`data`) and the
 * metadata's JSON text (`meta`), with `expires_at` last while its category has a TTL.
 */
export type ShownRecord = StoredRecord;

/**
 * The batch read's answer as text (`readsNow.readFeaturesBatchText`): what `FeatureBatchOutput`
 * holds, without record objects. Entity `e`'s answer: its records of `categories` (in that
 * order) found, then as unavailable the categories without one followed by `refused`.
 */
export interface FeatureBatchTextOutput {
  entityType: string;
  /** In request order; duplicates allowed. */
  entityValues: readonly string[];
  /** The allowed categories asked for, in order of first mention. */
  categories: readonly string[];
  /** The categories asked for that are not on the allow-list (unavailable for every entity). */
  refused: readonly string[];
  /** `records[e * categories.length + c]`: entity `e`'s record of category `c`, or undefined (none, or expired). */
  records: (ShownRecord | undefined)[];
}

export interface HealthReport {
  healthy: boolean;
  timestamp: string;
  store: { type: string } & StoreHealth;
  events: EventPipelineHealth | undefined;
}
