import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FeatureService } from '../../service/feature-service.js';
import {
  EntityTypeQuery,
  errorResponses,
  MultiReadRequest,
  MultiReadResponse,
  ReadByQueryParams,
  ReadByQueryQuery,
  ReadParams,
  RecordResponse,
  WriteRequest,
  WriteResponse,
} from '../schemas.js';

/** The feature API: write one category, read one category (two URL forms), multi-read. */
export const itemRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.post(
    '/items',
    {
      schema: {
        summary: 'Write one category of features (full replace)',
        description:
          'Replaces the whole category for the entity. `created_at` is kept from the first write, `updated_at` moves, `compute_id` is the one given (or null). Emits a change event.',
        tags: ['features'],
        body: WriteRequest,
        response: { 200: WriteResponse, ...errorResponses(400, 413, 503) },
      },
    },
    async (request) => service.writeCategory(request.body),
  );

  app.get(
    '/get/item/:entity_value/:category',
    {
      schema: {
        summary: 'Read one category',
        tags: ['features'],
        params: ReadParams,
        querystring: EntityTypeQuery,
        response: { 200: RecordResponse, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) =>
      service.readCategory(request.query.entity_type ?? 'bright_uid', request.params.entity_value, request.params.category),
  );

  app.get(
    '/get/item/:entity_value',
    {
      schema: {
        summary: 'Read one category (category as a query parameter)',
        tags: ['features'],
        params: ReadByQueryParams,
        querystring: ReadByQueryQuery,
        response: { 200: RecordResponse, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) =>
      service.readCategory(request.query.entity_type ?? 'bright_uid', request.params.entity_value, request.query.category),
  );

  app.post(
    '/get/items',
    {
      schema: {
        summary: 'Read selected features across categories',
        description:
          "Each `feature_list` entry is `category:feature` or `category:*`. Always 200 for a valid request; categories without a record, then categories not on the allow-list, are listed in `unavailable_feature_categories`.",
        tags: ['features'],
        body: MultiReadRequest,
        response: { 200: MultiReadResponse, ...errorResponses(400, 413, 503) },
      },
    },
    async (request) => service.readFeatures(request.body),
  );
};
