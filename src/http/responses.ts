import type { ComputeJobStatsResponse } from '../contract/compute-jobs.js';
import type { ComputeHistoryResponse, ComputeJobResponse } from '../contract/lineage.js';
import type { BatchReadResponse } from '../contract/batch-read-schemas.js';
import type { DeleteCategoryResponse, DeleteEntityResponse } from '../contract/delete-schemas.js';
import type { HealthResponse, MultiReadResponse, RecordResponse, WriteResponse } from '../contract/schemas.js';
import type { FeatureRecord } from '../model.js';
import type { ComputeJobsOutput } from '../service/compute-jobs.js';
import type { ComputeJobOutput } from '../service/job-stats.js';
import type { ComputeHistoryOutput, FeatureBatchOutput, FeatureSelectionOutput, HealthReport, WriteOutput } from '../service/feature-service.js';
import type { EraseOutput } from '../service/record-deletes.js';
import type { RecordKey } from '../store/ports.js';

/**
 * The old service's response bodies, built from the service's domain results. Key order is part
 * of the contract (responses are compared byte for byte): the record's entity-type key first.
 */

export function recordResponse(record: FeatureRecord): RecordResponse {
  return {
    [record.entityType]: record.entityValue,
    category: record.category,
    features: { data: record.data, meta: record.meta },
  };
}

/** Keyed like a record: the entity type's name first. */
export function computeHistoryResponse(out: ComputeHistoryOutput): ComputeHistoryResponse {
  return {
    [out.key.entityType]: out.key.entityValue,
    category: out.key.category,
    compute_history: out.history.map((e) => ({ compute_id: e.compute_id, timestamp: e.timestamp })),
  };
}

export function computeJobResponse(out: ComputeJobsOutput, nextCursor: string | null): ComputeJobResponse {
  return {
    compute_id: out.computeId,
    records: out.records.map((r) => ({ entity_type: r.entityType, entity_value: r.entityValue, category: r.category, updated_at: r.updatedAt })),
    next_cursor: nextCursor,
  };
}

export function writeResponse(out: WriteOutput, message = 'Category written successfully (full replace)'): WriteResponse {
  return {
    message,
    entity_value: out.key.entityValue,
    entity_type: out.key.entityType,
    category: out.key.category,
    feature_count: out.featureCount,
  };
}

function itemsOf(records: readonly FeatureRecord[]): Record<string, RecordResponse> {
  const items: Record<string, RecordResponse> = {};
  for (const record of records) items[record.category] = recordResponse(record);
  return items;
}

export function mergeResponse(out: WriteOutput): WriteResponse {
  return writeResponse(out, 'Category merged successfully (partial update)');
}

export function multiReadResponse(out: FeatureSelectionOutput): MultiReadResponse {
  return {
    entity_value: out.entityValue,
    entity_type: out.entityType,
    items: itemsOf(out.records),
    unavailable_feature_categories: out.unavailable,
  };
}

/** Each result is the multi-read's answer without `entity_type`, which the batch states once. */
export function batchReadResponse(out: FeatureBatchOutput): BatchReadResponse {
  return {
    entity_type: out.entityType,
    results: out.results.map((r) => ({ entity_value: r.entityValue, items: itemsOf(r.records), unavailable_feature_categories: r.unavailable })),
  };
}

export function deleteCategoryResponse(key: RecordKey): DeleteCategoryResponse {
  return { message: 'Category deleted', entity_type: key.entityType, entity_value: key.entityValue, category: key.category };
}

export function eraseResponse(out: EraseOutput): DeleteEntityResponse {
  return { message: 'Entity deleted', entity_type: out.entityType, entity_value: out.entityValue, deleted_categories: out.deletedCategories };
}

export function healthResponse(report: HealthReport): HealthResponse {
  const { store, events } = report;
  return {
    status: report.healthy ? 'healthy' : 'unhealthy',
    store: { type: store.type, ok: store.ok },
    events:
      events === undefined
        ? { enabled: false, status: 'disabled', pending: null, oldest_pending_age_seconds: null }
        : {
            enabled: true,
            status: events.status,
            pending: events.pending,
            oldest_pending_age_seconds: events.oldestPendingAgeSeconds,
            ...(events.reason === undefined ? {} : { reason: events.reason }),
          },
    dynamodb_connection: store.type === 'dynamodb' && store.ok,
    tables_available: store.tablesAvailable,
    timestamp: report.timestamp,
  };
}

export function computeJobStatsResponse(job: ComputeJobOutput): ComputeJobStatsResponse {
  return {
    compute_id: job.computeId,
    records_written: job.writes,
    records_current: job.recordsCurrent,
    first_write_at: job.firstWriteAt,
    last_write_at: job.lastWriteAt,
    categories: { ...job.categories },
    entity_types: { ...job.entityTypes },
  };
}
