import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ComputeJobListQuery, ComputeJobListResponse, ComputeJobStatsResponse } from '../../contract/compute-jobs.js';
import { ComputeJobParams } from '../../contract/lineage.js';
import type { FeatureService } from '../../service/feature-service.js';
import { decodeJobCursor, encodeJobCursor } from '../cursor.js';
import { errorResponses } from '../error-responses.js';
import { computeJobStatsResponse } from '../responses.js';
import { computeJobRead } from '../route-access.js';

const DEFAULT_PAGE = 100;

const LAG =
  'The statistics follow the writes asynchronously: with change events on, a write is counted when the relay publishes its event (normally well under a second; during a Kafka outage they lag and catch up once it is back, each write counted once); without events, within about a second.';

/** Job analytics: when a compute job ran and what it wrote (README "Lineage"). */
export const computeJobRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.get(
    '/compute-jobs/:compute_id',
    {
      config: computeJobRead,
      schema: {
        summary: "A compute job's statistics",
        description: `How many writes the job made (per category and entity type), when it first and last wrote, and how many records still carry its compute_id. 404 \`COMPUTE_JOB_NOT_FOUND\` for a job with no counted write. ${LAG}`,
        tags: ['lineage'],
        params: ComputeJobParams,
        response: { 200: ComputeJobStatsResponse, ...errorResponses(404, 503) },
      },
    },
    async (request) => computeJobStatsResponse(await service.readComputeJob(request.params.compute_id)),
  );

  app.get(
    '/compute-jobs',
    {
      config: computeJobRead,
      schema: {
        summary: 'Compute jobs, latest first',
        description: `The jobs with counted writes, latest \`last_write_at\` first, optionally only those that wrote one \`category\`, in pages of \`limit\` (default 100, at most 1,000) with an opaque \`cursor\`. 400 for a category not on the allow-list; 422 for a bad \`limit\` or \`cursor\`. ${LAG}`,
        tags: ['lineage'],
        querystring: ComputeJobListQuery,
        response: { 200: ComputeJobListResponse, ...errorResponses(400, 503) },
      },
    },
    async (request) => {
      const { category, limit, cursor } = request.query;
      const out = await service.listComputeJobs({
        category,
        limit: limit === undefined ? DEFAULT_PAGE : Number(limit),
        from: cursor === undefined ? undefined : decodeJobCursor(cursor),
      });
      return { jobs: out.jobs.map(computeJobStatsResponse), next_cursor: out.next === undefined ? null : encodeJobCursor(out.next) };
    },
  );
};
