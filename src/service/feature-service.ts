import { randomUUID } from 'node:crypto';
import { CategoryNotAllowedError, echo, InvalidInputError, ItemNotFoundError, StaleWriteError, type InputProblem } from '../errors.js';
import type { FeatureMap, FeatureRecord, OutboxEvent } from '../model.js';
import type { RecordKey } from '../store/ports.js';
import { formatTimestamp } from '../timestamps.js';
import { categoryListing } from './category-list.js';
import { computeJobQueries } from './compute-jobs.js';
import { computeJobStats } from './job-stats.js';
import { countWrite } from './write-metrics.js';
import { createExpiry } from './expiry.js';
import type { ComputeHistoryOutput, FeatureServiceDeps, HealthReport, WriteInput, WriteOutput } from './service-types.js';
import { checkFeatureValues } from './feature-checks.js';
import { createDeleteOperations } from './record-deletes.js';
import { createRecordReads } from './record-reads.js';
import { checkEventTime, computeIdRule, parseEventTime } from './write-meta.js';
import { versionsKept } from '../config-sections.js';
import { versionReads } from './versions.js';
import type { RestoreSettings } from './rollback.js';

export type {
  ComputeHistoryOutput,
  EventPipelineHealth,
  EventPipelineStatus,
  FeatureBatchInput,
  FeatureBatchOutput,
  FeatureBatchTextOutput,
  FeatureSelectionInput,
  FeatureSelectionOutput,
  FeatureServiceDeps,
  HealthReport,
  ShownRecord,
  WriteInput,
  WriteOutput,
} from './service-types.js';

export type FeatureService = ReturnType<typeof createFeatureService>;

/**
 * The feature store's rules, independent of HTTP: allow-lists, metadata, change events. It takes
 * domain input and returns domain results; the HTTP layer owns the wire shapes (the old
 * service's response bodies, FastAPI's 422s). Each route calls one of these functions.
 */
export function createFeatureService(deps: FeatureServiceDeps) {
  const { store, config, clock, metrics } = deps;
  const newId = deps.newId ?? randomUUID;
  const allowed = new Set(config.categories);
  const writers = new Set(config.writeSources);
  const entityTypes = Object.keys(config.entityTables);
  const eventsOn = config.kafka !== undefined;
  const checkComputeId = computeIdRule(config.lineage);

  const isEntityType = (t: string): boolean => Object.hasOwn(config.entityTables, t);
  const expiry = createExpiry(config.categoryTtlMs);
  const visible = (record: FeatureRecord | undefined, nowMs: number) => expiry.visible(record, nowMs);
  const reads = createRecordReads({
    store,
    metrics,
    clock,
    categories: config.categories,
    batchMaxEntities: config.batchMaxEntities,
    visible,
    expiry,
    checkEntityType: (entityType) => checkEntityType(entityType),
  });
  const { checkReadable } = reads;

  /** The `source` rule alone, so that a caller can report it beside its own schema problems. */
  function checkSource(source: string): InputProblem | undefined {
    if (writers.has(source)) return undefined;
    return {
      field: 'source',
      type: 'value_error',
      message: `Value error, source '${echo(source)}' is not allowed to write. Allowed sources: ${config.writeSources.join(', ')}`,
    };
  }

  /**
   * The rules on a write's `meta` fields, as sent (any JSON value; a field of the wrong type is
   * left to the schema). The HTTP layer calls this for a body that failed its schema too, so that
   * one 422 lists every problem of the request.
   */
  function checkWriteMeta(meta: { source?: unknown; compute_id?: unknown; event_time?: unknown }): InputProblem[] {
    const problems: InputProblem[] = [];
    const source = typeof meta.source === 'string' ? checkSource(meta.source) : undefined;
    if (source !== undefined) problems.push(source);
    const computeId = checkComputeId(meta.compute_id);
    if (computeId !== undefined) problems.push(computeId);
    const eventTime = checkEventTime(meta.event_time);
    if (eventTime !== undefined) problems.push(eventTime);
    return problems;
  }

  function checkEntityType(entityType: string): InputProblem | undefined {
    if (isEntityType(entityType)) return undefined;
    return { field: 'entity_type', type: 'literal_error', message: `Input should be ${entityTypes.map((t) => `'${t}'`).join(' or ')}` };
  }

  function changeEvent(
    key: RecordKey,
    type: 'feature_available' | 'feature_deleted',
    now: string,
    lineage: { computeId: string | null; eventTime: string | undefined },
    names: string[],
  ): OutboxEvent {
    const id = newId();
    return {
      id,
      key: `${key.entityType}:${key.entityValue}`,
      event: {
        event_id: id,
        event_type: type,
        timestamp: now,
        entity_type: key.entityType,
        entity_id: key.entityValue,
        resource_type: 'feature',
        resource_name: key.category,
        compute_id: lineage.computeId,
        event_time: lineage.eventTime ?? null,
        features: names,
      },
    };
  }

  /** Every rule of a write (and a merge): meta (source, compute_id, event_time), entity type, feature values, then the allow-list. */
  function checkWrite(input: WriteInput): RecordKey {
    const problems = checkWriteMeta({ source: input.source, compute_id: input.computeId, event_time: input.eventTime });
    const entityType = checkEntityType(input.entityType);
    if (entityType !== undefined) problems.push(entityType);
    problems.push(...checkFeatureValues(input.features));
    if (problems.length > 0) throw new InvalidInputError(problems);
    if (!allowed.has(input.category)) throw new CategoryNotAllowedError(input.category, 'write', config.categories);
    return { entityType: input.entityType, entityValue: input.entityValue, category: input.category };
  }

  async function writeCategory(input: WriteInput): Promise<WriteOutput> {
    const key = checkWrite(input);
    const data = input.features as FeatureMap;
    const nowMs = clock().getTime();
    const now = formatTimestamp(new Date(nowMs));
    const computeId = input.computeId ?? null;
    const parsed = parseEventTime(input.eventTime);
    const eventTime = 'eventTime' in parsed ? parsed.eventTime : undefined; // checked above
    const names = Object.keys(data);
    const result = await store.writeRecord({
      key,
      data,
      computeId,
      eventTime,
      now,
      expiresAt: expiry.expiresAt(key.category, nowMs),
      historySize: config.lineage.computeHistorySize,
      versionsKept: versionsKept(config.versions, key.category),
      event: eventsOn ? changeEvent(key, 'feature_available', now, { computeId, eventTime }, names) : undefined,
    });
    if (result.outcome === 'superseded') throw new Error('store reported a write without onlyIfComputeId as superseded');
    if (result.outcome === 'stale') {
      // Only a write with an event time can be stale: nothing changed and no event was recorded.
      if (eventTime === undefined) throw new Error(`store reported a write without event time as stale (stored ${result.storedEventTime})`);
      metrics.staleWrites.inc({ entity_type: key.entityType, category: key.category });
      throw new StaleWriteError(key.entityValue, key.category, result.storedEventTime, eventTime);
    }
    countWrite(metrics, key, computeId, nowMs);
    return { key, featureCount: names.length };
  }

  /**
   * A partial update: the given features are merged into the stored ones and a `null` value
   * removes that feature; a missing record is created. The event lists every feature the merge
   * named (set or removed), in request order. `featureCount` is the record's after the merge.
   */
  async function mergeCategory(input: WriteInput): Promise<WriteOutput> {
    const key = checkWrite(input);
    const features = input.features as FeatureMap;
    const set = Object.create(null) as FeatureMap;
    const remove: string[] = [];
    for (const [name, value] of Object.entries(features)) {
      if (value === null) remove.push(name);
      else set[name] = value;
    }
    const nowMs = clock().getTime();
    const now = formatTimestamp(new Date(nowMs));
    const result = await store.mergeRecord({
      key,
      set,
      remove,
      computeId: input.computeId ?? null,
      now,
      historySize: config.lineage.computeHistorySize,
      versionsKept: versionsKept(config.versions, key.category),
      // An expired record is merged into as if it were gone (its features do not come back).
      expiresAt: expiry.expiresAt(key.category, nowMs),
      expiredBefore: expiry.expiredBefore(key.category, nowMs),
      event: eventsOn ? changeEvent(key, 'feature_available', now, { computeId: input.computeId ?? null, eventTime: undefined }, Object.keys(features)) : undefined,
    });
    countWrite(metrics, key, input.computeId, nowMs);
    return { key, featureCount: result.featureCount };
  }

  /**
   * The compute history of one record, newest first, at most `COMPUTE_HISTORY_SIZE` entries
   * (`[]` when it is 0). Checked and reported like `readCategory`.
   */
  async function readComputeHistory(key: RecordKey): Promise<ComputeHistoryOutput> {
    checkReadable(key);
    const history = await store.getComputeHistory(key, config.lineage.computeHistorySize);
    if (history === undefined) throw new ItemNotFoundError(key.entityValue, key.category);
    return { key, history };
  }

  /**
   * Removes expired records on backends that need it (SQLite), in transactions of at most
   * `batch`, each with a `feature_deleted` event per record; gives the event loop a turn
   * between transactions. Resolves with the number removed (0 on backends with native expiry).
   */
  async function sweepExpired(batch: number): Promise<number> {
    const sweeper = store.sweeper;
    if (sweeper === undefined) return 0;
    let total = 0;
    for (;;) {
      const now = formatTimestamp(clock());
      const event = eventsOn
        ? (deleted: FeatureRecord) => changeEvent(deleted, 'feature_deleted', now, { computeId: null, eventTime: undefined }, Object.keys(deleted.data))
        : undefined;
      const removed = await sweeper.sweepExpired({ now, limit: batch, event });
      total += removed;
      if (removed < batch) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function health(): Promise<HealthReport> {
    const [storeHealth, events] = await Promise.all([
      store.health(),
      deps.events?.health() ?? Promise.resolve(undefined),
    ]);
    return {
      healthy: storeHealth.ok,
      timestamp: formatTimestamp(clock()),
      store: { type: store.type, ...storeHealth },
      events,
    };
  }

  const deletedEvent = eventsOn
    ? (key: RecordKey, now: string, deleted: FeatureRecord) => changeEvent(key, 'feature_deleted', now, { computeId: null, eventTime: undefined }, Object.keys(deleted.data))
    : undefined;
  /** The rules a rollback's restore write follows as any write (rollback.ts). */
  const restoreSettings: RestoreSettings = (key, now, nowMs, lineage) => ({
    expiresAt: expiry.expiresAt(key.category, nowMs),
    historySize: config.lineage.computeHistorySize,
    versionsKept: versionsKept(config.versions, key.category),
    event: eventsOn ? changeEvent(key, 'feature_available', now, lineage, lineage.names) : undefined,
  });
  const deletes = createDeleteOperations({
    store,
    categories: config.categories,
    clock,
    metrics,
    checkSource,
    isEntityType,
    deletedEvent,
  });
  const { findByComputeId } = computeJobQueries({ store, config });
  const { readComputeJob, listComputeJobs } = computeJobStats({ store, config });
  const { readVersions, readAsOf } = versionReads({
    store,
    config: config.versions,
    visible: (record) => visible(record, clock().getTime()),
    checkReadable,
  });
  const { listCategory } = categoryListing({ store, config, expiry, clock });

  return {
    checkSource,
    checkWriteMeta,
    writeCategory,
    mergeCategory,
    readCategory: reads.readCategory,
    /** The reads on the calling thread where the store answers synchronously (record-reads.ts); else undefined. */
    readsNow: reads.now,
    readComputeHistory,
    readVersions,
    readAsOf,
    restoreSettings,
    deletedEvent,
    findByComputeId,
    readComputeJob,
    listComputeJobs,
    listCategory,
    readFeatures: reads.readFeatures,
    readFeaturesBatch: reads.readFeaturesBatch,
    ...deletes,
    sweepExpired,
    health,
  };
}
