import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MergeRequest } from '../../contract/merge-schemas.js';
import { WriteResponse } from '../../contract/schemas.js';
import type { FeatureService } from '../../service/feature-service.js';
import { writeAccess } from '../route-access.js';
import { errorResponses } from '../error-responses.js';
import { mergeResponse } from '../responses.js';
import { withMetaProblems, writeInput } from './items.js';

/** The merge write: a partial update of one category, validated like the full write. */
export const mergeWriteRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.patch(
    '/items',
    {
      attachValidation: true,
      config: writeAccess,
      schema: {
        summary: 'Merge features into one category (partial update)',
        description:
          'Merges the given top-level features into the stored ones; a `null` value removes that feature; a missing record is created. `created_at` is kept, `updated_at` moves, `compute_id` is this write\'s. Atomic, without a read before the write, so concurrent merges of different features all survive. `feature_count` is the number of features after the merge. Emits a change event listing the features named in the merge.',
        tags: ['features'],
        body: MergeRequest,
        response: { 200: WriteResponse, ...errorResponses(400, 413, 415, 503) },
      },
    },
    async (request) => {
      if (request.validationError !== undefined) throw withMetaProblems(request.validationError, request.body, service);
      return mergeResponse(await service.mergeCategory(writeInput(request.body)));
    },
  );
};
