import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import {
  CategoryNotAllowedError,
  InvalidEntityTypeError,
  InvalidInputError,
  ItemNotFoundError,
  StaleWriteError,
  type InputProblem,
} from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { ComputeHistoryEntry, FeatureMap, FeatureRecord, OutboxEvent } from '../model.js';
import type { FeatureStore, RecordKey, StoreHealth } from '../store/ports.js';
import { formatTimestamp, type Clock } from '../timestamps.js';
import { computeJobQueries } from './compute-jobs.js';
import { checkFeatureValues } from './feature-checks.js';
import { checkEventTime, computeIdRule, parseEventTime } from './write-meta.js';
import { selectFeatures, type FeatureSelection } from './feature-selection.js';

/** What the event pipeline reports to health checks. */
export interface EventPipelineHealth {
  status: 'ok' | 'degraded';
  pending: number | null;
  oldestPendingAgeSeconds: number | null;
}

export interface EventPipelineStatus {
  health(): Promise<EventPipelineHealth>;
}

export interface FeatureServiceDeps {
  store: FeatureStore;
  config: Pick<Config, 'entityTables' | 'categories' | 'writeSources' | 'kafka' | 'lineage'>;
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

export interface HealthReport {
  healthy: boolean;
  timestamp: string;
  store: { type: string } & StoreHealth;
  events: EventPipelineHealth | undefined;
}

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

  /** The `source` rule alone, so that a caller can report it beside its own schema problems. */
  function checkSource(source: string): InputProblem | undefined {
    if (writers.has(source)) return undefined;
    return {
      field: 'source',
      type: 'value_error',
      message: `Value error, source '${source}' is not allowed to write. Allowed sources: ${config.writeSources.join(', ')}`,
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

  async function writeCategory(input: WriteInput): Promise<WriteOutput> {
    const problems = checkWriteMeta({ source: input.source, compute_id: input.computeId, event_time: input.eventTime });
    const entityType = checkEntityType(input.entityType);
    if (entityType !== undefined) problems.push(entityType);
    problems.push(...checkFeatureValues(input.features));
    if (problems.length > 0) throw new InvalidInputError(problems);
    if (!allowed.has(input.category)) throw new CategoryNotAllowedError(input.category, 'write', config.categories);

    const key: RecordKey = { entityType: input.entityType, entityValue: input.entityValue, category: input.category };
    const data = input.features as FeatureMap;
    const computeId = input.computeId ?? null;
    const parsed = parseEventTime(input.eventTime);
    const eventTime = 'eventTime' in parsed ? parsed.eventTime : undefined; // checked above
    const now = formatTimestamp(clock());
    const names = Object.keys(data);
    const result = await store.writeRecord({
      key,
      data,
      computeId,
      eventTime,
      now,
      historySize: config.lineage.computeHistorySize,
      event: eventsOn ? changeEvent(key, 'feature_available', now, { computeId, eventTime }, names) : undefined,
    });
    if (result.outcome === 'stale') {
      // Only a write with an event time can be stale: nothing changed and no event was recorded.
      if (eventTime === undefined) throw new Error(`store reported a write without event time as stale (stored ${result.storedEventTime})`);
      metrics.staleWrites.inc({ entity_type: key.entityType, category: key.category });
      throw new StaleWriteError(key.entityValue, key.category, result.storedEventTime, eventTime);
    }
    metrics.writes.inc({ entity_type: key.entityType, category: key.category });
    return { key, featureCount: names.length };
  }

  /** The checks of a one-record read: allow-list first, then entity type, as the old service checked them. */
  function checkReadable(key: RecordKey): void {
    if (!allowed.has(key.category)) throw new CategoryNotAllowedError(key.category, 'read', config.categories);
    if (!isEntityType(key.entityType)) throw new InvalidEntityTypeError(key.entityType);
  }

  /** One record. */
  async function readCategory(key: RecordKey): Promise<FeatureRecord> {
    checkReadable(key);
    const [record] = await store.getRecords([key]);
    metrics.reads.inc({ entity_type: key.entityType, category: key.category, result: record === undefined ? 'miss' : 'hit' });
    if (record === undefined) throw new ItemNotFoundError(key.entityValue, key.category);
    return record;
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

  async function readFeatures(input: FeatureSelectionInput): Promise<FeatureSelectionOutput> {
    const { entityType, entityValue } = input;
    const invalidType = checkEntityType(entityType);
    if (invalidType !== undefined) throw new InvalidInputError([invalidType]);

    const wanted = parseFeatureList(input.featureList);
    const permitted = [...wanted.keys()].filter((c) => allowed.has(c));
    const refused = [...wanted.keys()].filter((c) => !allowed.has(c));
    const found = await store.getRecords(permitted.map((category) => ({ entityType, entityValue, category })));

    const records: FeatureRecord[] = [];
    const missing: string[] = [];
    permitted.forEach((category, i) => {
      const record = found[i];
      metrics.reads.inc({ entity_type: entityType, category, result: record === undefined ? 'miss' : 'hit' });
      if (record === undefined) missing.push(category);
      else records.push(selectFeatures(record, wanted.get(category) ?? '*'));
    });
    return { entityType, entityValue, records, unavailable: [...missing, ...refused] };
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

  const { findByComputeId } = computeJobQueries({ store, config });

  return { checkSource, checkWriteMeta, writeCategory, readCategory, readComputeHistory, findByComputeId, readFeatures, health };
}

/**
 * `category:feature` / `category:*` entries (already checked to contain a `:` with text on both
 * sides) → category → selected names or `*`, in order of first mention; `*` wins.
 */
function parseFeatureList(featureList: readonly string[]): Map<string, FeatureSelection> {
  const wanted = new Map<string, Set<string> | '*'>();
  for (const ref of featureList) {
    const colon = ref.indexOf(':');
    const category = ref.slice(0, colon);
    const feature = ref.slice(colon + 1);
    const current = wanted.get(category);
    if (feature === '*' || current === '*') wanted.set(category, '*');
    else if (current === undefined) wanted.set(category, new Set([feature]));
    else current.add(feature);
  }
  return wanted;
}
