import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { TSchema } from 'typebox';
import type { Config } from '../config.js';
import { BatchReadRequest, BatchReadResponse } from '../contract/batch-read-schemas.js';
import { DeleteCategoryResponse, DeleteEntityResponse } from '../contract/delete-schemas.js';
import { ComputeJobListResponse, ComputeJobStatsResponse } from '../contract/compute-jobs.js';
import { CategoryListResponse } from '../contract/category-list.js';
import { ComputeHistoryResponse, ComputeJobResponse } from '../contract/lineage.js';
import { RollbackStarted, RollbackStatus, VersionsResponse } from '../contract/versions.js';
import {
  EXAMPLE_RECORD,
  ErrorResponse,
  HealthResponse,
  MultiReadRequest,
  MultiReadResponse,
  RecordResponse,
  ValidationErrorResponse,
  ValidationIssue,
  WriteRequest,
  WriteResponse,
} from '../contract/schemas.js';

/**
 * The OpenAPI document (`/openapi.json`, Swagger UI at `/docs`). Documentation only: nothing
 * here changes how requests are validated or responses sent.
 *
 * - Named component schemas: each schema below is registered under its name, and a route's
 *   response that *is* one of them (the same object) is documented as a `$ref` to it. Request
 *   bodies stay inline, with the named schema's example.
 * - Response descriptions per status (never "Default Response"), naming the error `code`s.
 * - Allow-lists as enums from configuration: a schema marked `x-enum-from: <VARIABLE>` in the
 *   contract gets `enum` set to that variable's configured values. The mark is only read here;
 *   validation keeps its own messages (a category off the allow-list stays a 400, not a 422).
 */
export const NAMED_SCHEMAS: Readonly<Record<string, TSchema>> = {
  WriteRequest,
  WriteResponse,
  RecordResponse,
  MultiReadRequest,
  MultiReadResponse,
  HealthResponse,
  ErrorResponse,
  ValidationIssue,
  ValidationErrorResponse,
  BatchReadRequest,
  BatchReadResponse,
  DeleteCategoryResponse,
  DeleteEntityResponse,
  ComputeHistoryResponse,
  ComputeJobResponse,
  ComputeJobStatsResponse,
  ComputeJobListResponse,
  VersionsResponse,
  RollbackStarted,
  RollbackStatus,
  CategoryListResponse,
};

/** What each error status means, with the `code`s it carries (docs/api.md, "Errors"). */
export const STATUS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  200: 'Success.',
  400:
    'Something the request names is not allowed: a category off the allow-list (`CATEGORY_NOT_ALLOWED`), an unknown `entity_type` query value (`INVALID_ENTITY_TYPE`), or a request that is not well-formed (`BAD_REQUEST`).',
  401: 'API keys are on and the request has no valid key (`NOT_AUTHENTICATED`); see `WWW-Authenticate`.',
  403: 'The API key lacks the scope, or may not touch a category, that the request needs (`FORBIDDEN`).',
  404: 'No such record (`NOT_FOUND`); for a point-in-time read, none at that time (`NOT_FOUND_AT_TIME`) or a version no longer kept (`VERSION_NOT_KEPT`); no counted write of the compute job, or for a rollback no such job (`COMPUTE_JOB_NOT_FOUND`).',
  409: "The write's event time is older than the stored record's; nothing changed (`STALE_WRITE`).",
  413: "The body is over 1 MiB, or the record it would store is over the store's limit (`PAYLOAD_TOO_LARGE`).",
  414: 'A path segment is over 12,288 characters (`URI_TOO_LONG`).',
  415: 'The body is not `application/json` or another `+json` type (`UNSUPPORTED_MEDIA_TYPE`).',
  422: "The request breaks its schema or a rule on a field (`VALIDATION_FAILED`): FastAPI's shape, one entry per problem, `loc` naming the field.",
  500: 'An unexpected failure (`INTERNAL`); details are only in the log, under the request id.',
  503: 'The store cannot be reached (`STORE_UNAVAILABLE`), is throttling (`STORE_THROTTLED`) or lacks a table (`STORE_TABLE_MISSING`), the service is shutting down (`SERVICE_UNAVAILABLE`) or overloaded (`SERVICE_OVERLOADED`), or gave no answer in time (`RESPONSE_TIMEOUT`). Retry after `Retry-After` seconds.',
};

/** Descriptions of one route's statuses where the generic one above does not fit. */
const ROUTE_DESCRIPTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'POST /api/v1/items': { 200: 'The category was written (full replace); `feature_count` is the number of features.' },
  'GET /api/v1/get/item/:entity_value/:category': { 200: 'The record, keyed by its entity type name.' },
  'GET /api/v1/get/item/:entity_value': { 200: 'The record, keyed by its entity type name.' },
  'POST /api/v1/get/items': { 200: 'The selected features; missing and refused categories in `unavailable_feature_categories`.' },
  'PATCH /api/v1/items': { 200: 'The features were merged into the category; `feature_count` is the number of features after the merge.' },
  'POST /api/v1/get/items/batch': { 200: "One result per requested entity value, in request order, each shaped like the multi-read's answer." },
  'DELETE /api/v1/items/:entity_type/:entity_value/:category': { 200: 'The record was deleted, with its `feature_deleted` event.' },
  'GET /api/v1/get/item/:entity_value/:category/history': { 200: "The record's compute history, newest first (at most `COMPUTE_HISTORY_SIZE`)." },
  'GET /api/v1/features/by-compute-id/:compute_id': { 200: 'The records whose current compute_id is this one, one page; `next_cursor` continues, `null` at the end.' },
  'GET /api/v1/compute-jobs/:compute_id': {
    200: "The job's statistics; `records_current` counted now.",
    404: 'No write of this compute job has been counted (`COMPUTE_JOB_NOT_FOUND`); a job that just wrote may not be counted yet.',
  },
  'GET /api/v1/compute-jobs': { 200: 'One page of jobs, latest `last_write_at` first; `next_cursor` continues, `null` at the end.' },
  'GET /api/v1/get/item/:entity_value/:category/versions': { 200: 'The current version, then the kept earlier ones, newest first.' },
  'POST /api/v1/compute-jobs/:compute_id/rollback': { 202: 'The rollback runs in the background (`running`), or ran before (`done`: nothing new happens).' },
  'GET /api/v1/compute-jobs/:compute_id/rollback': { 200: 'Progress of the rollback; `finished_at` once `done`.' },
  'GET /api/v1/features/by-category/:category': { 200: 'One page of the records of the category, each as a read returns it; `next_cursor` continues, `null` at the end.' },
  'DELETE /api/v1/items/:entity_type/:entity_value': { 200: 'Every category of the entity that existed was deleted (`deleted_categories`, possibly empty).' },
  'GET /api/v1/health': {
    200: 'The store answers (`healthy`); `events` may still be `degraded`, with `reason`.',
    503: 'The store cannot be reached (`unhealthy`).',
  },
};

/** Examples of whole bodies (field examples live on the contract's schemas). */
const EXAMPLES: Readonly<Record<string, unknown>> = {
  WriteRequest: {
    meta: { source: 'prediction_service', compute_id: 'spark-job-2025-10-16-abc123' },
    data: {
      entity_type: 'bright_uid',
      entity_value: 'user-12345',
      category: 'd0_unauth_features',
      features: { credit_score: 750, debt_to_income_ratio: 0.35 },
    },
  },
  MultiReadRequest: {
    meta: { source: 'ranking-service' },
    data: { entity_type: 'bright_uid', entity_value: 'user-12345', feature_list: ['d0_unauth_features:credit_score', 'ncr_unauth_features:*'] },
  },
  MultiReadResponse: {
    entity_value: 'user-12345',
    entity_type: 'bright_uid',
    items: {
      d0_unauth_features: EXAMPLE_RECORD,
    },
    unavailable_feature_categories: ['ncr_unauth_features'],
  },
  ErrorResponse: { detail: 'Item not found: user-12345/d0_unauth_features', code: 'NOT_FOUND' },
  ValidationErrorResponse: {
    detail: [{ type: 'missing', loc: ['body', 'meta', 'source'], msg: 'Field required' }],
    code: 'VALIDATION_FAILED',
  },
  WriteResponse: {
    message: 'Category written successfully (full replace)',
    entity_value: 'user-12345',
    entity_type: 'bright_uid',
    category: 'd0_unauth_features',
    feature_count: 2,
  },
  HealthResponse: {
    status: 'healthy',
    store: { type: 'sqlite', ok: true },
    events: { enabled: true, status: 'ok', pending: 0, oldest_pending_age_seconds: null },
    dynamodb_connection: false,
    tables_available: ['user_feature_store', 'account_feature_store'],
    timestamp: '2025-10-16T10:00:00.000Z',
  },
};

/** Configured values of each `x-enum-from` mark. */
export function enumSources(config: Pick<Config, 'entityTables' | 'categories' | 'writeSources'>): Record<string, readonly string[]> {
  return {
    ENTITY_TYPES: Object.keys(config.entityTables),
    CATEGORY_WHITELIST: config.categories,
    WRITE_SOURCES: config.writeSources,
  };
}

const NAMES = new Map<unknown, string>(Object.entries(NAMED_SCHEMAS).map(([name, schema]) => [schema, name]));

function ref(schema: unknown, description?: string): unknown {
  const name = NAMES.get(schema);
  if (name === undefined) return description === undefined ? schema : { ...(schema as object), description };
  return { $ref: `${name}#`, ...(description === undefined ? {} : { description }) };
}

/**
 * A request body stays inline in its operation (clients and tests read its properties there),
 * with the whole-body example of its named schema.
 */
function inlineBody(body: unknown): unknown {
  const name = NAMES.get(body);
  const example = name === undefined ? undefined : EXAMPLES[name];
  return example === undefined ? body : { ...(body as object), example };
}

/** The route's schema as documented: named schemas as references, every status described. */
function documented(schema: FastifySchema, method: string, url: string): FastifySchema {
  const routeDescriptions = ROUTE_DESCRIPTIONS[`${method} ${url}`] ?? {};
  const response = schema.response as Record<string, unknown> | undefined;
  return {
    ...schema,
    ...(schema.body === undefined ? {} : { body: inlineBody(schema.body) }),
    ...(response === undefined
      ? {}
      : {
          response: Object.fromEntries(
            Object.entries(response).map(([status, s]) => [status, ref(s, routeDescriptions[status] ?? STATUS_DESCRIPTIONS[status] ?? 'See docs/api.md.')]),
          ),
        }),
  };
}

/** Replaces every `x-enum-from` mark below `node` with the configured `enum`. */
function applyEnums(node: unknown, sources: Record<string, readonly string[]>): void {
  if (Array.isArray(node)) {
    for (const item of node) applyEnums(item, sources);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  const from = obj['x-enum-from'];
  if (typeof from === 'string' && sources[from] !== undefined) {
    obj.enum = [...sources[from]];
    delete obj['x-enum-from'];
  }
  for (const value of Object.values(obj)) applyEnums(value, sources);
}

export async function registerOpenApi(app: FastifyInstance, config: Config): Promise<void> {
  for (const [name, schema] of Object.entries(NAMED_SCHEMAS)) {
    app.addSchema({ ...schema, $id: name, title: name, ...(EXAMPLES[name] === undefined ? {} : { example: EXAMPLES[name] }) });
  }
  const sources = enumSources(config);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Feature store API',
        version: '1.0.0',
        description:
          'Online feature store: compute jobs write one category of features per entity (full replace, with lineage metadata); prediction services read one category or selected features across categories. Every write emits a change event to Kafka. The contract in words: docs/api.md.',
      },
      tags: [
        { name: 'features', description: 'Write and read features' },
        { name: 'lineage', description: 'Which compute jobs wrote a record, and what a job wrote' },
        { name: 'versions', description: 'Earlier versions of records, point-in-time reads, rollback of a compute job' },
        { name: 'operations', description: 'Health' },
      ],
    },
    // Component names are the schemas' names, not `def-<n>`.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => {
      if (schema === undefined || schema.hide === true) return { schema, url };
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
      return { schema: documented(schema, method, url), url };
    },
    transformObject: (documentObject) => {
      const doc = 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject;
      applyEnums(doc, sources);
      return doc;
    },
  });
  // DOCS_ACCESS=off: the document is still built (tests read it), but nothing serves it.
  if (config.access.docs === 'off') return;
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
