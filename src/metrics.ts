import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundCounter, BoundHistogram } from './bound-metrics.js';
import { replaceEventLoopDelayMetrics } from './event-loop-metrics.js';

/**
 * Every metric the service exposes, on its own registry (never the global one). Labels are
 * bounded: route templates, methods, status classes, configured entity types and categories,
 * backends, operations. Never entity values, raw paths or client addresses.
 */
export interface Metrics {
  readonly registry: Registry;
  // Per request or per read: label sets bound once (bound-metrics.ts).
  readonly httpRequests: BoundCounter<'route' | 'method' | 'status_class'>;
  readonly httpDuration: BoundHistogram<'route' | 'method' | 'status_class'>;
  readonly reads: BoundCounter<'entity_type' | 'category' | 'result'>;
  readonly writes: Counter<'entity_type' | 'category'>;
  readonly deletes: Counter<'entity_type' | 'category'>;
  readonly staleWrites: Counter<'entity_type' | 'category'>;
  /** Freshness: Unix time of the latest applied write or merge per entity type and category. */
  readonly lastWrite: Gauge<'entity_type' | 'category'>;
  /** Applied writes and merges that named their compute job (`present`) or not (`absent`). */
  readonly lineageWrites: Counter<'compute_id'>;
  readonly storeDuration: BoundHistogram<'backend' | 'operation' | 'outcome'>;
  readonly eventsPublished: Counter;
  readonly eventsFailed: Counter;
  readonly outboxPending: Gauge;
  readonly outboxOldestAge: Gauge;
  /** Authenticated requests per API key id (bounded by the keys file). */
  readonly apiKeyRequests: Counter<'key_id'>;
}

export interface MetricsOptions {
  /** Also collect Node.js process metrics (heap, event loop lag, …). */
  processMetrics?: boolean;
}

const PREFIX = 'feature_store_';

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: PREFIX });
    replaceEventLoopDelayMetrics(registry, PREFIX);
  }
  const registers = [registry];
  return {
    registry,
    httpRequests: new BoundCounter({
      name: 'feature_store_http_requests_total',
      help: 'HTTP requests by route template, method and status class.',
      labelNames: ['route', 'method', 'status_class'] as const,
      registers,
    }),
    httpDuration: new BoundHistogram({
      name: 'feature_store_http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status class.',
      labelNames: ['route', 'method', 'status_class'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    reads: new BoundCounter({
      name: 'feature_store_reads_total',
      help: 'Category reads by entity type, category and result (hit or miss).',
      labelNames: ['entity_type', 'category', 'result'] as const,
      registers,
    }),
    writes: new Counter({
      name: 'feature_store_writes_total',
      help: 'Successful category writes by entity type and category.',
      labelNames: ['entity_type', 'category'] as const,
      registers,
    }),
    deletes: new Counter({
      name: 'feature_store_deletes_total',
      help: 'Records deleted (one per category; an erasure counts each category it removed).',
      labelNames: ['entity_type', 'category'] as const,
      registers,
    }),
    staleWrites: new Counter({
      name: 'feature_store_stale_writes_total',
      help: 'Writes refused with 409 STALE_WRITE (their event_time was older than the stored one), by entity type and category.',
      labelNames: ['entity_type', 'category'] as const,
      registers,
    }),
    lastWrite: new Gauge({
      name: 'feature_store_last_write_timestamp_seconds',
      help: 'Unix time of the latest applied write or merge served by this instance, by entity type and category (take the max over instances; time() minus it is the age).',
      labelNames: ['entity_type', 'category'] as const,
      registers,
    }),
    lineageWrites: new Counter({
      name: 'feature_store_lineage_writes_total',
      help: 'Applied writes and merges by whether they carried a meta.compute_id (compute_id="present") or not ("absent").',
      labelNames: ['compute_id'] as const,
      registers,
    }),
    storeDuration: new BoundHistogram({
      name: 'feature_store_store_operation_duration_seconds',
      help: 'Store operation duration by backend, operation and outcome.',
      labelNames: ['backend', 'operation', 'outcome'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    eventsPublished: new Counter({
      name: 'feature_store_events_published_total',
      help: 'Change events acknowledged by Kafka.',
      registers,
    }),
    eventsFailed: new Counter({
      name: 'feature_store_events_failed_total',
      help: 'Change events whose publish attempt failed (they stay in the outbox and are retried).',
      registers,
    }),
    outboxPending: new Gauge({
      name: 'feature_store_outbox_pending',
      help: 'Change events recorded but not yet published.',
      registers,
    }),
    outboxOldestAge: new Gauge({
      name: 'feature_store_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest change event not yet published (0 when none).',
      registers,
    }),
    apiKeyRequests: new Counter({
      name: 'feature_store_api_key_requests_total',
      help: 'Authenticated requests by API key id (API_KEYS_FILE); never the secret.',
      labelNames: ['key_id'] as const,
      registers,
    }),
  };
}
