import { Type, type Static } from 'typebox';
import { LIMITS } from './limits.js';

/**
 * The job analytics endpoints' wire shapes (`GET /api/v1/compute-jobs/{compute_id}` and
 * `GET /api/v1/compute-jobs`, README "Lineage"). The statistics follow the writes
 * asynchronously; `records_current` is counted when asked.
 */

const EXAMPLE_JOB = {
  compute_id: 'spark-job-2025-10-16-abc123',
  records_written: 3,
  records_current: 2,
  first_write_at: '2025-10-16T10:00:00.000Z',
  last_write_at: '2025-10-16T10:05:00.000Z',
  categories: { d0_unauth_features: 2, ncr_unauth_features: 1 },
  entity_types: { bright_uid: 3 },
};

const Counts = (description: string, example: Record<string, number>) =>
  Type.Record(Type.String(), Type.Integer({ minimum: 1 }), { description, examples: [example] });

export const ComputeJobStatsResponse = Type.Object(
  {
    compute_id: Type.String({ examples: [EXAMPLE_JOB.compute_id] }),
    records_written: Type.Integer({
      minimum: 1,
      description: 'Writes and merges this job made (a record it wrote twice counts twice). Deletes and expiries are not writes.',
      examples: [3],
    }),
    records_current: Type.Integer({
      minimum: 0,
      description: 'Records whose current compute_id is this job (what `GET /api/v1/features/by-compute-id/{compute_id}` lists), counted now.',
      examples: [2],
    }),
    first_write_at: Type.String({ description: "The earliest counted write's `updated_at`.", examples: [EXAMPLE_JOB.first_write_at] }),
    last_write_at: Type.String({ description: "The latest counted write's `updated_at`: when the job last ran.", examples: [EXAMPLE_JOB.last_write_at] }),
    categories: Counts('Writes per category.', EXAMPLE_JOB.categories),
    entity_types: Counts('Writes per entity type.', EXAMPLE_JOB.entity_types),
  },
  {
    description:
      "One compute job's statistics. They follow the writes asynchronously: with change events on, a write counts once the relay has published its event (normally well under a second; during a Kafka outage they lag, then catch up exactly); without events, within about a second.",
    examples: [EXAMPLE_JOB],
  },
);
export type ComputeJobStatsResponse = Static<typeof ComputeJobStatsResponse>;

export const ComputeJobListQuery = Type.Object({
  category: Type.Optional(Type.String({ minLength: 1, description: 'Only jobs that wrote this category (on the allow-list).', examples: ['d0_unauth_features'] })),
  limit: Type.Optional(
    Type.String({
      pattern: '^(?:[1-9][0-9]{0,2}|1000)$',
      description: `Jobs per page, 1 to ${LIMITS.computeJobPage} (default 100).`,
      examples: ['100'],
      'x-error': { type: 'value_error', msg: `Value error, limit must be an integer from 1 to ${LIMITS.computeJobPage}` },
    }),
  ),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'Opaque: `next_cursor` of the previous page of the same query.' })),
});

export const ComputeJobListResponse = Type.Object(
  {
    jobs: Type.Array(ComputeJobStatsResponse, { description: 'Jobs, latest `last_write_at` first.' }),
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
  },
  {
    description: 'One page of compute jobs, latest write first. A job that writes while a client pages moves to the front of the list.',
    examples: [{ jobs: [EXAMPLE_JOB], next_cursor: null }],
  },
);
export type ComputeJobListResponse = Static<typeof ComputeJobListResponse>;
