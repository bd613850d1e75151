import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CategoryListParams, CategoryListQuery, CategoryListResponse } from '../../contract/category-list.js';
import type { FeatureService } from '../../service/feature-service.js';
import { decodeCategoryCursor, encodeCategoryCursor } from '../category-cursor.js';
import { errorResponses } from '../error-responses.js';
import { recordResponse } from '../responses.js';
import { pathCategoryRead } from '../route-access.js';
import { DEFAULT_ENTITY_TYPE } from './items.js';

const DEFAULT_PAGE = 100;

/** Every record of a category, page by page (what `feature-store export` reads). */
export const categoryListRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.get(
    '/features/by-category/:category',
    {
      config: pathCategoryRead,
      schema: {
        summary: 'Every record of a category',
        description:
          'The records of one category of one entity type, whole (as a read returns them), in pages of `limit` (default 100, at most 1,000) with an opaque `cursor`; follow `next_cursor` until it is null (a page may be short or empty before that). For export and inspection, not for serving: SQLite walks the primary key, DynamoDB scans the table (it reads, and bills, every item of the entity type\'s table). Checked like a read: 400 for a category not on the allow-list or an unknown `entity_type`; 422 for a bad `limit` or `cursor`.',
        tags: ['features'],
        params: CategoryListParams,
        querystring: CategoryListQuery,
        response: { 200: CategoryListResponse, ...errorResponses(400, 503) },
      },
    },
    async (request) => {
      const entityType = request.query.entity_type ?? DEFAULT_ENTITY_TYPE;
      const { limit, cursor } = request.query;
      const out = await service.listCategory({
        entityType,
        category: request.params.category,
        limit: limit === undefined ? DEFAULT_PAGE : Number(limit),
        from: cursor === undefined ? undefined : decodeCategoryCursor(entityType, cursor),
      });
      return {
        entity_type: out.entityType,
        category: out.category,
        records: out.records.map(recordResponse),
        next_cursor: out.next === undefined ? null : encodeCategoryCursor(out.entityType, out.next),
      };
    },
  );
};
