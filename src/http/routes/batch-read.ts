import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BatchReadRequest, BatchReadResponse } from '../../contract/batch-read-schemas.js';
import type { FeatureService } from '../../service/feature-service.js';
import { featureListRead } from '../route-access.js';
import { errorResponses } from '../error-responses.js';
import { batchReadJson, sendJson } from '../response-json.js';

/** The batch read: the multi-read for many entities of one type, one store call for all. */
export const batchReadRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.post(
    '/get/items/batch',
    {
      config: featureListRead,
      schema: {
        summary: 'Read selected features of many entities',
        description:
          'The multi-read (`POST /api/v1/get/items`) for each of `entity_values` (1 to `BATCH_MAX_ENTITIES`, default 1,000), answered in request order; a duplicate value gets its answer at each position. Always 200 for a valid request. One store round trip for all keys (DynamoDB: BatchGetItem chunks of 100 in parallel).',
        tags: ['features'],
        body: BatchReadRequest,
        response: { 200: BatchReadResponse, ...errorResponses(413, 415, 503) },
      },
    },
    async (request, reply) => {
      const { data } = request.body;
      const out = await service.readFeaturesBatch({ entityType: data.entity_type, entityValues: data.entity_values, featureList: data.feature_list });
      return sendJson(reply, batchReadJson(out));
    },
  );
};
