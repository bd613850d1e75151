import { Type, type Static } from 'typebox';

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
