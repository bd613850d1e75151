import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Statsd, Tags } from '../statsd.js';

/**
 * The old service's per-request StatsD metrics, with its names and only its bounded tags
 * (never `client_ip` or `entity_value`). `path` is the route template in FastAPI's form
 * (`/api/v1/get/item/{entity_value}/{category}`), entity types and categories outside the
 * configuration are tagged `other`.
 */
const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  422: 'validation_error',
  429: 'rate_limit',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
};

const SLOW_REQUEST_MS = 1_000;
const API_PREFIX = '/api/v1/';

type Operation = 'read.single_item' | 'read.multi_category' | 'write.single_category';

/** Which of the old service's operations a route is. */
const OPERATIONS: Readonly<Record<string, Operation>> = {
  'POST /api/v1/items': 'write.single_category',
  'GET /api/v1/get/item/{entity_value}/{category}': 'read.single_item',
  'GET /api/v1/get/item/{entity_value}': 'read.single_item',
  'POST /api/v1/get/items': 'read.multi_category',
};

/** `get_item`, `get_items`, `items`, `health`: the first two literal segments after /api/v1/. */
export function endpointOf(path: string): string | undefined {
  if (!path.startsWith(API_PREFIX)) return undefined;
  const segments = path
    .slice(API_PREFIX.length)
    .split('/')
    .filter((s) => s !== '' && !s.startsWith('{'));
  return segments.length === 0 ? undefined : segments.slice(0, 2).join('_');
}

function field(value: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((v, key) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined), value);
}

export function registerLegacyStatsd(app: FastifyInstance, statsd: Statsd, config: Pick<Config, 'entityTables' | 'categories'>): void {
  const bounded = (value: unknown, allowed: readonly string[]): string =>
    typeof value === 'string' && allowed.includes(value) ? value : 'other';
  const entityTypes = Object.keys(config.entityTables);
  /** Multi-reads that found no category at all (read.multi_category.not_found). */
  const nothingFound = new WeakSet<FastifyRequest>();

  app.addHook('onSend', async (request, reply, payload) => {
    if (request.routeOptions.url === '/api/v1/get/items' && reply.statusCode === 200 && typeof payload === 'string') {
      if (/"items":\{\}/.test(payload)) nothingFound.add(request);
    }
    return payload;
  });

  function operationTags(operation: Operation, request: FastifyRequest): Tags {
    const params = request.params as Record<string, unknown> | undefined;
    const query = request.query as Record<string, unknown> | undefined;
    switch (operation) {
      case 'write.single_category':
        return {
          entity_type: bounded(field(request.body, 'data', 'entity_type'), entityTypes),
          category: bounded(field(request.body, 'data', 'category'), config.categories),
        };
      case 'read.single_item':
        return {
          entity_type: bounded(query?.entity_type ?? 'bright_uid', entityTypes),
          category: bounded(params?.category ?? query?.category, config.categories),
        };
      case 'read.multi_category':
        return { entity_type: bounded(field(request.body, 'data', 'entity_type'), entityTypes) };
    }
  }

  function operationMetrics(operation: Operation, request: FastifyRequest, status: number, ms: number): void {
    // Requests refused before reaching the handler (schema, size) were never an operation.
    if (status === 422 || status === 413) return;
    const tags = operationTags(operation, request);
    statsd.timing(`${operation}.duration`, ms, tags);
    if (status === 404 && operation === 'read.single_item') statsd.count(`${operation}.not_found`, tags);
    else statsd.count(`${operation}.${status < 400 ? 'success' : 'error'}`, tags);
    if (operation === 'read.multi_category' && nothingFound.has(request)) statsd.count(`${operation}.not_found`, tags);
  }

  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const route = request.routeOptions.url;
    const path = route === undefined ? 'unmatched' : route.replace(/:(\w+)/g, '{$1}');
    const status = reply.statusCode;
    const ms = reply.elapsedTime;
    const base: Tags = { method: request.method, path, status_code: status, status_category: `${Math.floor(status / 100)}xx` };
    statsd.count('http.request.count', base);
    statsd.timing('http.request.duration', ms, base);
    if (status >= 400) statsd.count('http.error.count', { ...base, error_type: ERROR_TYPES[status] ?? 'unknown_error' });
    else statsd.count('http.success.count', base);
    if (ms > SLOW_REQUEST_MS) statsd.count('http.slow_request.count', base);
    const endpoint = endpointOf(path);
    if (endpoint !== undefined) {
      statsd.count('http.endpoint.count', { ...base, endpoint });
      statsd.timing('http.endpoint.duration', ms, { ...base, endpoint });
      statsd.count('http.api_version.count', { ...base, api_version: 'v1' });
    }
    const operation = OPERATIONS[`${request.method} ${path}`];
    if (operation !== undefined) operationMetrics(operation, request, status, ms);
    done();
  });
}
