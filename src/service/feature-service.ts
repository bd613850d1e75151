import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import {
  CategoryNotAllowedError,
  InvalidEntityTypeError,
  ItemNotFoundError,
  RequestValidationError,
  type ValidationIssue,
} from '../errors.js';
import type { HealthResponse, MultiReadRequest, RecordResponse, MultiReadResponse, WriteRequest, WriteResponse } from '../http/schemas.js';
import type { Metrics } from '../metrics.js';
import type { FeatureMap, FeatureRecord, OutboxEvent } from '../model.js';
import type { FeatureStore } from '../store/feature-store.js';
import { formatTimestamp, type Clock } from '../timestamps.js';
import { checkFeatureValues } from './feature-checks.js';

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
  config: Pick<Config, 'entityTables' | 'categories' | 'writeSources' | 'kafka'>;
  clock: Clock;
  metrics: Metrics;
  /** Present when events are on; reported in health. */
  events?: EventPipelineStatus;
  /** Event id generator (UUID v4 by default). */
  newId?: () => string;
}

export interface HealthResult {
  healthy: boolean;
  body: HealthResponse;
}

export type FeatureService = ReturnType<typeof createFeatureService>;

/**
 * The feature store's rules, independent of HTTP: allow-lists, metadata, change events and the
 * shape of records on the wire. Each HTTP route calls exactly one of these functions.
 */
export function createFeatureService(deps: FeatureServiceDeps) {
  const { store, config, clock, metrics } = deps;
  const newId = deps.newId ?? randomUUID;
  const allowed = new Set(config.categories);
  const writers = new Set(config.writeSources);
  const entityTypes = Object.keys(config.entityTables);
  const eventsOn = config.kafka !== undefined;

  const isEntityType = (t: string): boolean => Object.hasOwn(config.entityTables, t);

  function toResponse(record: FeatureRecord, data: FeatureMap = record.data): RecordResponse {
    return {
      [record.entityType]: record.entityValue,
      category: record.category,
      features: { data, meta: record.meta },
    };
  }

  async function writeCategory(request: WriteRequest): Promise<WriteResponse> {
    const { meta, data } = request;
    const issues: ValidationIssue[] = [];
    if (!writers.has(meta.source)) {
      issues.push({
        type: 'value_error',
        loc: ['body', 'meta', 'source'],
        msg: `Value error, source '${meta.source}' is not allowed to write. Allowed sources: ${config.writeSources.join(', ')}`,
      });
    }
    if (!isEntityType(data.entity_type)) {
      issues.push({
        type: 'literal_error',
        loc: ['body', 'data', 'entity_type'],
        msg: `Input should be ${entityTypes.map((t) => `'${t}'`).join(' or ')}`,
      });
    }
    try {
      checkFeatureValues(data.features);
    } catch (err) {
      if (!(err instanceof RequestValidationError)) throw err;
      issues.push(...err.issues);
    }
    if (issues.length > 0) throw new RequestValidationError(issues);
    if (!allowed.has(data.category)) throw new CategoryNotAllowedError(data.category, 'write', config.categories);

    const features = data.features as FeatureMap;
    const now = formatTimestamp(clock());
    const computeId = meta.compute_id ?? null;
    const names = Object.keys(features);
    let event: OutboxEvent | undefined;
    if (eventsOn) {
      const id = newId();
      event = {
        id,
        key: `${data.entity_type}:${data.entity_value}`,
        event: {
          event_id: id,
          event_type: 'feature_available',
          timestamp: now,
          entity_type: data.entity_type,
          entity_id: data.entity_value,
          resource_type: 'feature',
          resource_name: data.category,
          compute_id: computeId,
          features: names,
        },
      };
    }
    await store.writeCategory({
      entityType: data.entity_type,
      entityValue: data.entity_value,
      category: data.category,
      data: features,
      computeId,
      now,
      ...(event === undefined ? {} : { event }),
    });
    metrics.writes.inc({ entity_type: data.entity_type, category: data.category });
    return {
      message: 'Category written successfully (full replace)',
      entity_value: data.entity_value,
      entity_type: data.entity_type,
      category: data.category,
      feature_count: names.length,
    };
  }

  async function readCategory(entityType: string, entityValue: string, category: string): Promise<RecordResponse> {
    if (!allowed.has(category)) throw new CategoryNotAllowedError(category, 'read', config.categories);
    if (!isEntityType(entityType)) throw new InvalidEntityTypeError(entityType);
    const record = await store.getCategory(entityType, entityValue, category);
    metrics.reads.inc({ entity_type: entityType, category, result: record === undefined ? 'miss' : 'hit' });
    if (record === undefined) throw new ItemNotFoundError(entityValue, category);
    return toResponse(record);
  }

  async function readFeatures(request: MultiReadRequest): Promise<MultiReadResponse> {
    const { entity_type: entityType, entity_value: entityValue, feature_list: featureList } = request.data;
    if (!isEntityType(entityType)) throw new InvalidEntityTypeError(entityType);

    // category → selected feature names, or '*' for all; in order of first mention.
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
    const permitted = [...wanted.keys()].filter((c) => allowed.has(c));
    const refused = [...wanted.keys()].filter((c) => !allowed.has(c));
    const records =
      permitted.length === 0 ? [] : await store.getCategories(entityType, entityValue, permitted);
    const byCategory = new Map(records.map((r) => [r.category, r]));

    const items: Record<string, RecordResponse> = {};
    const missing: string[] = [];
    for (const category of permitted) {
      const record = byCategory.get(category);
      metrics.reads.inc({ entity_type: entityType, category, result: record === undefined ? 'miss' : 'hit' });
      if (record === undefined) {
        missing.push(category);
        continue;
      }
      const selection = wanted.get(category);
      let data = record.data;
      if (selection !== '*' && selection !== undefined) {
        // A null-prototype map, so that a feature named `__proto__` is copied like any other.
        data = Object.create(null) as FeatureMap;
        for (const name of selection) {
          if (Object.hasOwn(record.data, name)) data[name] = record.data[name] as FeatureMap[string];
        }
      }
      items[category] = toResponse(record, data);
    }
    return {
      entity_value: entityValue,
      entity_type: entityType,
      items,
      unavailable_feature_categories: [...missing, ...refused],
    };
  }

  async function health(): Promise<HealthResult> {
    const [storeHealth, eventHealth] = await Promise.all([
      store.health(),
      deps.events?.health() ?? Promise.resolve(undefined),
    ]);
    const body: HealthResponse = {
      status: storeHealth.ok ? 'healthy' : 'unhealthy',
      store: { type: store.type, ok: storeHealth.ok },
      events:
        eventHealth === undefined
          ? { enabled: false, status: 'disabled', pending: null, oldest_pending_age_seconds: null }
          : {
              enabled: true,
              status: eventHealth.status,
              pending: eventHealth.pending,
              oldest_pending_age_seconds: eventHealth.oldestPendingAgeSeconds,
            },
      dynamodb_connection: store.type === 'dynamodb' && storeHealth.ok,
      tables_available: storeHealth.tablesAvailable,
      timestamp: formatTimestamp(clock()),
    };
    return { healthy: storeHealth.ok, body };
  }

  return { writeCategory, readCategory, readFeatures, health };
}
