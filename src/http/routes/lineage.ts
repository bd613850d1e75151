import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ComputeHistoryResponse } from '../../contract/lineage.js';
import { EntityTypeQuery, ReadParams } from '../../contract/schemas.js';
import type { FeatureService } from '../../service/feature-service.js';
import { errorResponses } from '../error-responses.js';
import { computeHistoryResponse } from '../responses.js';

const DEFAULT_ENTITY_TYPE = 'bright_uid';

/** Lineage: what wrote a record (README "Lineage"). */
export const lineageRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.get(
    '/get/item/:entity_value/:category/history',
    {
      schema: {
        summary: 'Compute history of one record',
        description:
          'The compute ids of the record\'s latest writes, newest first, each with that write\'s `updated_at`; at most `COMPUTE_HISTORY_SIZE`. Checked like a read: 400 for a category not on the allow-list or an unknown `entity_type`, 404 when the record does not exist.',
        tags: ['lineage'],
        params: ReadParams,
        querystring: EntityTypeQuery,
        response: { 200: ComputeHistoryResponse, ...errorResponses(400, 404, 503) },
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
};
