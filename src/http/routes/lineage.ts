import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ComputeHistoryResponse, ComputeJobParams, ComputeJobQuery, ComputeJobResponse } from '../../contract/lineage.js';
import { EntityTypeQuery, ReadParams } from '../../contract/schemas.js';
import type { FeatureService } from '../../service/feature-service.js';
import { errorResponses } from '../error-responses.js';
import { computeJobRead, pathCategoryRead } from '../route-access.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { computeHistoryResponse, computeJobResponse } from '../responses.js';
import { DEFAULT_ENTITY_TYPE } from './items.js';

const DEFAULT_PAGE = 100;

/** Lineage: what wrote a record, and what a compute job wrote (README "Lineage"). */
export const lineageRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.get(
    '/get/item/:entity_value/:category/history',
    {
      config: pathCategoryRead,
      schema: {
        summary: 'Compute history of one record',
        description:
          'The compute ids of the record\'s latest writes, newest first, each with that write\'s `updated_at`; at most `COMPUTE_HISTORY_SIZE`. Checked like a read: 400 for a category not on the allow-list or an unknown `entity_type`, 404 when the record does not exist.',
        tags: ['lineage'],
        params: ReadParams,
        querystring: EntityTypeQuery,
        response: { 200: ComputeHistoryResponse, ...errorResponses(400, 404, 414, 503) },
      },
    },
    async (request) =>
      computeHistoryResponse(
        await service.readComputeHistory({
          entityType: request.query.entity_type ?? DEFAULT_ENTITY_TYPE,
          entityValue: request.params.entity_value,
          category: request.params.category,
        }),
      ),
  );

  app.get(
    '/features/by-compute-id/:compute_id',
    {
      config: computeJobRead,
      schema: {
        summary: 'Records a compute job wrote',
        description:
          'The records whose **current** compute_id is this one (a record rewritten by a later job leaves the list), optionally of one entity type and category, in pages of `limit` (default 100, at most 1,000) with an opaque `cursor`. An unknown job gives `"records": []`. 400 for a category not on the allow-list or an unknown `entity_type`; 422 for a bad `limit` or `cursor`. On DynamoDB the list comes from an eventually consistent index that holds records written by this version or later.',
        tags: ['lineage'],
        params: ComputeJobParams,
        querystring: ComputeJobQuery,
        response: { 200: ComputeJobResponse, ...errorResponses(400, 503) },
      },
    },
    async (request) => {
      const { entity_type: entityType, category, limit, cursor } = request.query;
      const out = await service.findByComputeId({
        computeId: request.params.compute_id,
        entityType,
        category,
        limit: limit === undefined ? DEFAULT_PAGE : Number(limit),
        from: cursor === undefined ? undefined : decodeCursor(cursor),
      });
      return computeJobResponse(out, out.next === undefined ? null : encodeCursor(out.next));
    },
  );
};
