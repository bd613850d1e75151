import { Type, type Static } from 'typebox';
import { LIMITS } from './limits.js';

/** The wire shapes of versions, point-in-time reads and rollbacks (README "Versions and rollback"). */

const EntityTypeParam = Type.String({
  description: 'A configured entity type (default `bright_uid`, `account_pid`).',
  default: 'bright_uid',
  examples: ['bright_uid'],
  'x-enum-from': 'ENTITY_TYPES',
});

/** The single-category read's query: `entity_type`, and `as_of` for a point-in-time read. */
export const ReadItemQuery = Type.Object({
  entity_type: Type.Optional(EntityTypeParam),
  as_of: Type.Optional(
    Type.String({
      description:
        'Point-in-time read: the record as it was at this time (RFC 3339 with an offset). The version current then, with its `updated_at`, `compute_id` and `event_time` and the record\'s `created_at`. 404 `NOT_FOUND_AT_TIME` before the first write, `VERSION_NOT_KEPT` when that version is no longer kept (`VERSIONS_KEPT`); 422 when not a valid time.',
      examples: ['2025-10-16T10:30:00Z'],
    }),
  ),
});

export const VersionSchema = Type.Object(
  {
    compute_id: Type.Union([Type.String(), Type.Null()], { description: 'The compute job of that write.', examples: ['spark-job-2025-10-16-abc123'] }),
    updated_at: Type.String({ description: "That write's time (RFC 3339 UTC, milliseconds).", examples: ['2025-10-16T10:00:00.000Z'] }),
    event_time: Type.Union([Type.String(), Type.Null()], { description: "That write's `meta.event_time`; null when it gave none." }),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'The features that write stored.' }),
  },
  { description: 'One version of the record.' },
);

export const VersionsResponse = Type.Object(
  {
    category: Type.String(),
    versions: Type.Array(VersionSchema, {
      description:
        'The current version first, then the kept earlier ones, newest first: at most 1 + `VERSIONS_KEPT` (or the category\'s `CATEGORY_VERSIONS_KEPT`). A record written while versions were off has fewer.',
    }),
  },
  {
    additionalProperties: Type.Unknown(),
    description: 'The versions of one record, with the entity value under the entity type name (e.g. `bright_uid`).',
    examples: [
      {
        bright_uid: 'user-12345',
        category: 'd0_unauth_features',
        versions: [
          { compute_id: 'spark-job-2', updated_at: '2025-10-17T10:00:00.000Z', event_time: null, data: { score: 0.1 } },
          { compute_id: 'spark-job-1', updated_at: '2025-10-16T10:00:00.000Z', event_time: null, data: { score: 0.82 } },
        ],
      },
    ],
  },
);
export type VersionsResponse = Static<typeof VersionsResponse>;

export const RollbackParams = Type.Object({
  compute_id: Type.String({
    minLength: 1,
    maxLength: LIMITS.computeIdLength,
    description: 'The compute job to roll back (percent-encoded in the path).',
    examples: ['spark-job-2025-10-17-bad'],
  }),
});

const DeleteUnversioned = Type.Optional(
  Type.String({
    enum: ['true', 'false'],
    description: '`true`: records the job wrote that have no earlier version are deleted (default: left as they are and counted as skipped).',
  }),
);

export const RollbackQuery = Type.Object({ delete_unversioned: DeleteUnversioned });

export const RollbackRequest = Type.Union([
  Type.Object({ delete_unversioned: Type.Optional(Type.Boolean({ description: 'As the query parameter.' })) }, { additionalProperties: false }),
  Type.Null(),
]);

export const RollbackStarted = Type.Object(
  {
    compute_id: Type.String(),
    status: Type.Union([Type.Literal('running'), Type.Literal('done')], { description: '`done` when this job was rolled back before (nothing new happens).' }),
  },
  { description: 'The rollback runs in the background.', examples: [{ compute_id: 'spark-job-2025-10-17-bad', status: 'running' }] },
);
export type RollbackStarted = Static<typeof RollbackStarted>;

export const RollbackStatus = Type.Object(
  {
    compute_id: Type.String(),
    status: Type.Union([Type.Literal('running'), Type.Literal('done')]),
    restored: Type.Integer({ description: 'Records restored to the version before the job.' }),
    skipped: Type.Integer({
      description: 'Records left as they are: no earlier version (without `delete_unversioned`), or rewritten by a later write meanwhile.',
    }),
    deleted: Type.Integer({ description: 'Records deleted because they had no earlier version (`delete_unversioned=true`).' }),
    started_at: Type.String({ examples: ['2025-10-17T11:00:00.000Z'] }),
    finished_at: Type.Union([Type.String(), Type.Null()], { description: 'Null while running.' }),
  },
  {
    description: 'Progress of a rollback.',
    examples: [
      { compute_id: 'spark-job-2025-10-17-bad', status: 'done', restored: 2, skipped: 1, deleted: 0, started_at: '2025-10-17T11:00:00.000Z', finished_at: '2025-10-17T11:00:00.120Z' },
    ],
  },
);
export type RollbackStatus = Static<typeof RollbackStatus>;
