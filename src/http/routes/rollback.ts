import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { RollbackParams, RollbackQuery, RollbackRequest, RollbackStarted, RollbackStatus } from '../../contract/versions.js';
import type { Rollbacks } from '../../service/rollback.js';
import type { RollbackState } from '../../store/ports.js';
import { errorResponses } from '../error-responses.js';
import { rollbackRead, rollbackStart } from '../route-access.js';

export function rollbackStatus(state: RollbackState): RollbackStatus {
  return {
    compute_id: state.computeId,
    status: state.status,
    restored: state.restored,
    skipped: state.skipped,
    deleted: state.deleted,
    started_at: state.startedAt,
    finished_at: state.finishedAt,
  };
}

/** Rollback of a compute job (README "Versions and rollback"). */
export const rollbackRoutes: FastifyPluginAsyncTypebox<{ rollbacks: Rollbacks }> = async (app, { rollbacks }) => {
  app.post(
    '/compute-jobs/:compute_id/rollback',
    {
      config: rollbackStart,
      schema: {
        summary: 'Roll back a compute job',
        description:
          'Restores, for every record whose current compute_id is this job, the version before it (the newest kept version written by another job): a new write with that data and compute_id, `updated_at` now, `created_at` kept, a change event per record. Conditional per record: a record rewritten meanwhile is left as it is. Records without an earlier version are skipped, or deleted with `delete_unversioned=true` (query or body). Runs in the background in batches of `ROLLBACK_BATCH_SIZE` and resumes after a restart; a second call returns the first one\'s status and does nothing new. 404 `COMPUTE_JOB_NOT_FOUND` when no record carries the job\'s compute_id and it was never rolled back.',
        tags: ['versions'],
        params: RollbackParams,
        querystring: RollbackQuery,
        body: RollbackRequest,
        response: { 202: RollbackStarted, ...errorResponses(401, 403, 404, 415, 422, 503) },
      },
    },
    async (request, reply) => {
      const body = request.body ?? undefined;
      const deleteUnversioned = request.query.delete_unversioned === 'true' || body?.delete_unversioned === true;
      const state = await rollbacks.start(request.params.compute_id, deleteUnversioned);
      return reply.code(202).send({ compute_id: state.computeId, status: state.status });
    },
  );

  app.get(
    '/compute-jobs/:compute_id/rollback',
    {
      config: rollbackRead,
      schema: {
        summary: 'Progress of a rollback',
        description: 'Counts so far; `finished_at` is set once `status` is `done`. 404 `COMPUTE_JOB_NOT_FOUND` when the job was never rolled back.',
        tags: ['versions'],
        params: RollbackParams,
        response: { 200: RollbackStatus, ...errorResponses(401, 403, 404, 503) },
      },
    },
    async (request) => rollbackStatus(await rollbacks.status(request.params.compute_id)),
  );
};
