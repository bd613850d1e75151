import { Type, type Static } from 'typebox';
import { ERROR_CODE_LIST } from './error-codes.js';
import { LIMITS } from './limits.js';

/**
 * The single source of truth for the wire format: these schemas validate requests, serialize
 * responses, generate the OpenAPI document and give the handlers their TypeScript types.
 *
 * `x-error` on a schema replaces the generic 422 entry for that field with a clearer one.
 * `x-enum-from: <VARIABLE>` documents the field's allowed values as that configuration
 * variable's (an `enum` in the OpenAPI document); it does not take part in validation, so
 * those fields keep their own error statuses and messages.
 */

export const EntityValue = Type.String({
  minLength: 1,
  maxLength: LIMITS.entityValueLength,
  description: 'The entity key, any non-empty string up to 1,024 characters.',
  examples: ['user-12345'],
});
export const EntityType = Type.String({
  minLength: 1,
  description: 'A configured entity type (default `bright_uid`, `account_pid`).',
  examples: ['bright_uid'],
  'x-enum-from': 'ENTITY_TYPES',
});
export const Category = Type.String({
  minLength: 1,
  description: 'A category on the allow-list.',
  examples: ['d0_unauth_features'],
  'x-enum-from': 'CATEGORY_WHITELIST',
});
const Timestamp = Type.String({
  description: 'RFC 3339 UTC, millisecond precision, fixed width.',
  examples: ['2025-10-16T10:00:00.000Z'],
});
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const FeatureData = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Feature name → any JSON value. Numbers come back exactly as sent.',
  examples: [{ credit_score: 750, debt_to_income_ratio: 0.35 }],
});

export const WriteRequest = Type.Object(
  {
    meta: Type.Object({
      source: Type.String({ description: 'The writer; must be one of `WRITE_SOURCES`.', examples: ['prediction_service'], 'x-enum-from': 'WRITE_SOURCES' }),
      compute_id: Type.Optional(
        Type.Union([Type.String(), Type.Null()], {
          description: `Id of the compute job that produced the features (lineage). At most ${LIMITS.computeIdLength} characters; when \`COMPUTE_ID_PATTERN\` is set the whole id must match it, and when \`COMPUTE_ID_REQUIRED=true\` it must be given and not null (each a 422 at \`["body","meta","compute_id"]\`).`,
          examples: ['spark-job-2025-10-16-abc123'],
        }),
      ),
      event_time: Type.Optional(
        Type.Union([Type.String(), Type.Null()], {
          description:
            'As of when the features were computed: RFC 3339 with any offset (422 at `["body","meta","event_time"]` otherwise), stored as `2025-10-16T10:00:00.000Z`. A write older than the stored record\'s event_time is refused with 409 `STALE_WRITE` and changes nothing; equal or newer applies. Without one (or null) the write applies as before and the record keeps no event time.',
          examples: ['2025-10-16T12:00:00+02:00'],
        }),
      ),
    }),
    data: Type.Object({
      entity_type: EntityType,
      entity_value: EntityValue,
      category: Category,
      features: Type.Record(Type.String(), Type.Unknown(), {
        minProperties: 1,
        maxProperties: LIMITS.featureCount,
        description: `The complete new feature map of the category (1 to ${LIMITS.featureCount} features, nesting up to ${LIMITS.nestingDepth} levels).`,
        examples: [{ credit_score: 750, debt_to_income_ratio: 0.35 }],
      }),
    }),
  },
  { description: 'Replace one category of features of one entity.' },
);
export type WriteRequest = Static<typeof WriteRequest>;

export const WriteResponse = Type.Object({
  message: Type.String({ examples: ['Category written successfully (full replace)'] }),
  entity_value: Type.String(),
  entity_type: Type.String(),
  category: Type.String(),
  feature_count: Type.Integer(),
});
export type WriteResponse = Static<typeof WriteResponse>;

export const RecordMetaSchema = Type.Object({
  created_at: Timestamp,
  updated_at: Timestamp,
  compute_id: NullableString,
  event_time: Type.Optional(
    Type.String({
      description: 'The latest write\'s `meta.event_time` in canonical form; present only when that write gave one.',
      examples: ['2025-10-16T10:00:00.000Z'],
    }),
  ),
});

/**
 * A record keyed by its entity type's name (`{"bright_uid": "user-1", …}`). The key is dynamic,
 * so the schema allows additional string properties.
 */
export const RecordResponse = Type.Object(
  {
    category: Type.String(),
    features: Type.Object({ data: FeatureData, meta: RecordMetaSchema }),
  },
  {
    additionalProperties: Type.String(),
    description: 'The record, with the entity value under the entity type name (e.g. `bright_uid`).',
    examples: [
      {
        bright_uid: 'user-12345',
        category: 'd0_unauth_features',
        features: {
          data: { credit_score: 750, debt_to_income_ratio: 0.35 },
          meta: { created_at: '2025-10-16T10:00:00.000Z', updated_at: '2025-10-16T10:05:00.000Z', compute_id: 'spark-job-2025-10-16-abc123' },
        },
      },
    ],
  },
);
export type RecordResponse = Static<typeof RecordResponse>;

export const ReadParams = Type.Object({ entity_value: EntityValue, category: Category });
export const ReadByQueryParams = Type.Object({ entity_value: EntityValue });
/** In a query an empty `entity_type=` is an unknown entity type (400), as the old service had it. */
const EntityTypeParam = Type.String({
  description: 'A configured entity type (default `bright_uid`, `account_pid`).',
  default: 'bright_uid',
  examples: ['bright_uid'],
  'x-enum-from': 'ENTITY_TYPES',
});
export const EntityTypeQuery = Type.Object({ entity_type: Type.Optional(EntityTypeParam) });
export const ReadByQueryQuery = Type.Object({ category: Category, entity_type: Type.Optional(EntityTypeParam) });

const FEATURE_REF = '^[^:]+:.+$';
/** `feature_list` of the multi-read and the batch read. */
export const FeatureList = Type.Array(
  Type.String({
    pattern: FEATURE_REF,
    description: '`category:feature`, or `category:*` for all features of the category.',
    'x-error': {
      type: 'value_error',
      msg: "Value error, expected 'category:feature' or 'category:*'",
    },
  }),
  {
    minItems: 1,
    maxItems: LIMITS.featureListEntries,
    examples: [['d0_unauth_features:credit_score', 'ncr_unauth_features:*']],
  },
);
/** `meta` of a read: who is asking. */
export const ReadMeta = Type.Object({
  source: Type.String({ description: 'The caller (any name; not checked against `WRITE_SOURCES`).', examples: ['ranking-service'] }),
});
export const MultiReadRequest = Type.Object({
  meta: ReadMeta,
  data: Type.Object({
    entity_type: EntityType,
    entity_value: EntityValue,
    feature_list: FeatureList,
  }),
});
export type MultiReadRequest = Static<typeof MultiReadRequest>;

export const MultiReadResponse = Type.Object({
  entity_value: Type.String(),
  entity_type: Type.String(),
  items: Type.Record(Type.String(), RecordResponse),
  unavailable_feature_categories: Type.Array(Type.String()),
});
export type MultiReadResponse = Static<typeof MultiReadResponse>;

export const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('unhealthy')]),
  store: Type.Object({ type: Type.String(), ok: Type.Boolean() }),
  events: Type.Object({
    enabled: Type.Boolean(),
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('disabled')]),
    pending: Type.Union([Type.Integer(), Type.Null()]),
    oldest_pending_age_seconds: Type.Union([Type.Number(), Type.Null()]),
    reason: Type.Optional(
      Type.String({
        description: 'Why events are `degraded` (absent otherwise), e.g. the topic does not exist or the broker is not reachable.',
        examples: ["Kafka topic 'FEATURE_AVAILABILITY_EVENTS' does not exist; events stay in the outbox until it is created (locally: npm run kafka:start creates it)"],
      }),
    ),
  }),
  dynamodb_connection: Type.Boolean({ description: 'Legacy key: true when the DynamoDB store answers.' }),
  tables_available: Type.Array(Type.String()),
  timestamp: Timestamp,
});
export type HealthResponse = Static<typeof HealthResponse>;

const ErrorCodeSchema = Type.Union(
  ERROR_CODE_LIST.map((c) => Type.Literal(c)),
  { description: 'Stable machine-readable error code (see the error code list in docs/api.md).' },
);

export const ErrorResponse = Type.Object(
  { detail: Type.String(), code: ErrorCodeSchema },
  { description: 'Business or lookup error.' },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

/** One problem of a request, in FastAPI's 422 shape; `loc` starts with `body`, `query` or `path`. */
export const ValidationIssue = Type.Object({
  type: Type.String(),
  loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
  msg: Type.String(),
  ctx: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type ValidationIssue = Static<typeof ValidationIssue>;

export const ValidationErrorResponse = Type.Object(
  { detail: Type.Array(ValidationIssue), code: Type.Literal('VALIDATION_FAILED') },
  { description: 'Request schema error, in FastAPI shape: one entry per problem.' },
);
export type ValidationErrorResponse = Static<typeof ValidationErrorResponse>;

/** One record as a read returns it: the examples of every response that carries records. */
export const EXAMPLE_RECORD = {
  bright_uid: 'user-12345',
  category: 'd0_unauth_features',
  features: {
    data: { credit_score: 750 },
    meta: { created_at: '2025-10-16T10:00:00.000Z', updated_at: '2025-10-16T10:05:00.000Z', compute_id: 'spark-job-2025-10-16-abc123' },
  },
} as const;
