import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { categoryDelete, entityErase } from '../route-access.js';
import {
  DeleteCategoryParams,
  DeleteCategoryResponse,
  DeleteEntityParams,
  DeleteEntityResponse,
  DeleteQuery,
} from '../../contract/delete-schemas.js';
import { InvalidInputError } from '../../errors.js';
import type { FeatureService } from '../../service/feature-service.js';
import { errorResponses } from '../error-responses.js';
import { issuesOf, RequestValidationError } from '../request-validation-error.js';
import { deleteCategoryResponse, eraseResponse } from '../responses.js';

/** A delete's `source` is a query parameter, so a refused one is reported there. */
async function atQuery<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof InvalidInputError) throw new RequestValidationError(issuesOf(err.problems, { source: ['query', 'source'] }));
    throw err;
  }
}

/** Deleting one category of an entity, and erasing every category of it. */
export const deleteRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.delete(
    '/items/:entity_type/:entity_value/:category',
    {
      config: categoryDelete,
      schema: {
        summary: 'Delete one category of an entity',
        description:
          'Deletes the record and records its `feature_deleted` change event atomically with it. Takes the write right: `source` must be one of `WRITE_SOURCES`. A later write creates a new record (a new `created_at`).',
        tags: ['features'],
        params: DeleteCategoryParams,
        querystring: DeleteQuery,
        response: { 200: DeleteCategoryResponse, ...errorResponses(400, 404, 414, 503) },
      },
    },
    async (request) => {
      const { entity_type: entityType, entity_value: entityValue, category } = request.params;
      return deleteCategoryResponse(await atQuery(service.deleteCategory({ source: request.query.source, entityType, entityValue, category })));
    },
  );

  app.delete(
    '/items/:entity_type/:entity_value',
    {
      config: entityErase,
      schema: {
        summary: 'Erase an entity (every category)',
        description:
          'Deletes the record of every allowed category of the entity, each with its `feature_deleted` event; `deleted_categories` lists those that existed, in allow-list order (`[]` when none did). Takes the write right: `source` must be one of `WRITE_SOURCES`.',
        tags: ['features'],
        params: DeleteEntityParams,
        querystring: DeleteQuery,
        response: { 200: DeleteEntityResponse, ...errorResponses(400, 414, 503) },
      },
    },
    async (request) => {
      const { entity_type: entityType, entity_value: entityValue } = request.params;
      return eraseResponse(await atQuery(service.eraseEntity({ source: request.query.source, entityType, entityValue })));
    },
  );
};
