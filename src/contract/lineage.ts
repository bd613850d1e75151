import { Type, type Static } from 'typebox';
import { LIMITS } from './limits.js';

/**
 * The lineage endpoints' wire shapes (README "Lineage"). Kept beside schemas.ts rather than in
 * it: they share nothing with the record schemas but the timestamp form.
 */

export const ComputeHistoryEntrySchema = Type.Object(
  {
    compute_id: Type.Union([Type.String(), Type.Null()], {
      description: 'The `meta.compute_id` of that write; null when the write gave none.',
      examples: ['spark-job-2025-10-16-abc123'],
    }),
    timestamp: Type.String({
      description: "That write's `updated_at` (RFC 3339 UTC, milliseconds).",
      examples: ['2025-10-16T10:05:00.000Z'],
    }),
  },
  { description: 'One applied write of the record.' },
);

/** Like a record, keyed by its entity type's name (`{"bright_uid": "user-1", …}`). */
export const ComputeHistoryResponse = Type.Object(
  {
    category: Type.String(),
    compute_history: Type.Array(ComputeHistoryEntrySchema, {
      description:
        'The compute ids of the latest writes, newest first, at most `COMPUTE_HISTORY_SIZE` (default 10). Writes refused as stale are not listed; `[]` for a record written before the history existed or while it was off.',
    }),
  },
  {
    additionalProperties: Type.String(),
    description: 'The compute history of one record, with the entity value under the entity type name (e.g. `bright_uid`).',
    examples: [
      {
        bright_uid: 'user-12345',
        category: 'd0_unauth_features',
        compute_history: [
          { compute_id: 'spark-job-2025-10-17-def456', timestamp: '2025-10-17T10:00:00.000Z' },
          { compute_id: 'spark-job-2025-10-16-abc123', timestamp: '2025-10-16T10:00:00.000Z' },
        ],
      },
    ],
  },
);
export type ComputeHistoryResponse = Static<typeof ComputeHistoryResponse>;

export const ComputeJobParams = Type.Object({
  compute_id: Type.String({
    minLength: 1,
    maxLength: LIMITS.computeIdLength,
    description: 'The compute job (percent-encoded in the path).',
    examples: ['spark-job-2025-10-16-abc123'],
  }),
});

/** `limit` of a paged listing (a query string value): 1 to 1,000 records per page. */
export const PageLimit = Type.String({
  pattern: '^(?:[1-9][0-9]{0,2}|1000)$',
  description: `Records per page, 1 to ${LIMITS.computeJobPage} (default 100).`,
  examples: ['100'],
  'x-error': { type: 'value_error', msg: `Value error, limit must be an integer from 1 to ${LIMITS.computeJobPage}` },
});

/** `cursor` of a paged listing. */
export const PageCursor = Type.String({ minLength: 1, maxLength: 8192, description: 'Opaque: `next_cursor` of the previous page of the same query.' });

export const ComputeJobQuery = Type.Object({
  entity_type: Type.Optional(
    Type.String({ description: 'Only records of this configured entity type (default: every entity type).', examples: ['bright_uid'] }),
  ),
  category: Type.Optional(Type.String({ minLength: 1, description: 'Only records of this category (on the allow-list).', examples: ['d0_unauth_features'] })),
  limit: Type.Optional(PageLimit),
  cursor: Type.Optional(PageCursor),
});

export const ComputeJobRecordSchema = Type.Object({
  entity_type: Type.String({ examples: ['bright_uid'] }),
  entity_value: Type.String({ examples: ['user-12345'] }),
  category: Type.String({ examples: ['d0_unauth_features'] }),
  updated_at: Type.String({ description: "The record's `updated_at` (its write by this job).", examples: ['2025-10-16T10:00:00.000Z'] }),
});

export const ComputeJobResponse = Type.Object(
  {
    compute_id: Type.String(),
    records: Type.Array(ComputeJobRecordSchema, {
      description:
        'Records whose current compute_id is this one, ordered by entity type (configuration order), category, then the store\'s own stable order. `[]` for an unknown job.',
    }),
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
  },
  {
    description: 'One page of the records a compute job wrote that still carry its compute_id.',
    examples: [
      {
        compute_id: 'spark-job-2025-10-16-abc123',
        records: [{ entity_type: 'bright_uid', entity_value: 'user-12345', category: 'd0_unauth_features', updated_at: '2025-10-16T10:00:00.000Z' }],
        next_cursor: null,
      },
    ],
  },
);
export type ComputeJobResponse = Static<typeof ComputeJobResponse>;
