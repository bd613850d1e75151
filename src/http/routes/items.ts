import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  MultiReadRequest,
  MultiReadResponse,
  ReadByQueryParams,
  ReadByQueryQuery,
  ReadParams,
  RecordResponse,
  WriteRequest,
  WriteResponse,
} from '../../contract/schemas.js';
import { ReadItemQuery } from '../../contract/versions.js';
import type { FeatureService, WriteInput } from '../../service/feature-service.js';
import { parseAsOf } from '../../service/versions.js';
import { errorResponses } from '../error-responses.js';
import { featureListRead, pathCategoryRead, queryCategoryRead, writeAccess } from '../route-access.js';
import { issueOf, RequestValidationError } from '../request-validation-error.js';
import { writeResponse } from '../responses.js';
import { multiReadJson, recordJson, sendJson } from '../response-json.js';

/** The entity type of a read without `entity_type`, as the old service had it. */
export const DEFAULT_ENTITY_TYPE = 'bright_uid';


/**
 * A write whose body fails its schema still gets the rules on its `meta` checked (the `source`
 * allow-list, the compute_id rules), so that one 422 lists every problem of the request (as
 * the old service's pydantic model did: the source validator runs on `meta` whatever is wrong in
 * `data`). The meta problems come first, as they do when the schema passes.
 */
export function withMetaProblems(error: Error, body: unknown, service: FeatureService): Error {
  if (!(error instanceof RequestValidationError)) return error;
  const meta = typeof body === 'object' && body !== null ? (body as { meta?: unknown }).meta : undefined;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return error;
  const problems = service.checkWriteMeta(meta);
  if (problems.length === 0) return error;
  return new RequestValidationError([...problems.map((p) => issueOf(p)), ...error.issues]);
}

/** A write's (or a merge write's) body as the service's input. */
export function writeInput({ meta, data }: WriteRequest): WriteInput {
  return {
    source: meta.source,
    computeId: meta.compute_id,
    eventTime: meta.event_time,
    entityType: data.entity_type,
    entityValue: data.entity_value,
    category: data.category,
    features: data.features,
  };
}

/** The feature API: write one category, read one category (two URL forms), multi-read. */
export const itemRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.post(
    '/items',
    {
      attachValidation: true,
      config: writeAccess,
      schema: {
        summary: 'Write one category of features (full replace)',
        description:
          'Replaces the whole category for the entity. `created_at` is kept from the first write, `updated_at` moves, `compute_id` is the one given (or null). With `meta.event_time`, a write older than the stored record\'s event time is refused with 409 `STALE_WRITE` (nothing changes, no event). Emits a change event.',
        tags: ['features'],
        body: WriteRequest,
        response: { 200: WriteResponse, ...errorResponses(400, 409, 413, 415, 503) },
      },
    },
    async (request) => {
      if (request.validationError !== undefined) throw withMetaProblems(request.validationError, request.body, service);
      return writeResponse(await service.writeCategory(writeInput(request.body)));
    },
  );

  app.get(
    '/get/item/:entity_value/:category',
    {
      config: pathCategoryRead,
      schema: {
        summary: 'Read one category',
        description:
          'The record. With `as_of`, the record as it was at that time (a kept earlier version; see `GET …/versions`): 404 `NOT_FOUND_AT_TIME` before its first write, `VERSION_NOT_KEPT` when that version is no longer kept.',
        tags: ['features'],
        params: ReadParams,
        querystring: ReadItemQuery,
        response: { 200: RecordResponse, ...errorResponses(400, 404, 414, 422, 503) },
      },
    },
    async (request, reply) => {
      const asOf = request.query.as_of === undefined ? undefined : parseAsOf(request.query.as_of);
      const key = { entityType: request.query.entity_type ?? DEFAULT_ENTITY_TYPE, entityValue: request.params.entity_value, category: request.params.category };
      return sendJson(reply, recordJson(asOf === undefined ? await service.readCategory(key) : await service.readAsOf(key, asOf)));
    },
  );

  app.get(
    '/get/item/:entity_value',
    {
      config: queryCategoryRead,
      schema: {
        summary: 'Read one category (category as a query parameter)',
        tags: ['features'],
        params: ReadByQueryParams,
        querystring: ReadByQueryQuery,
        response: { 200: RecordResponse, ...errorResponses(400, 404, 414, 503) },
      },
    },
    async (request, reply) =>
      sendJson(
        reply,
        recordJson(
          await service.readCategory({
            entityType: request.query.entity_type ?? DEFAULT_ENTITY_TYPE,
            entityValue: request.params.entity_value,
            category: request.query.category,
          }),
        ),
      ),
  );

  app.post(
    '/get/items',
    {
      config: featureListRead,
      schema: {
        summary: 'Read selected features across categories',
        description:
          "Each `feature_list` entry is `category:feature` or `category:*`. Always 200 for a valid request; categories without a record, then categories not on the allow-list, are listed in `unavailable_feature_categories`.",
        tags: ['features'],
        body: MultiReadRequest,
        response: { 200: MultiReadResponse, ...errorResponses(413, 415, 503) },
      },
    },
    async (request, reply) => {
      const { data } = request.body;
      const out = await service.readFeatures({ entityType: data.entity_type, entityValue: data.entity_value, featureList: data.feature_list });
      return sendJson(reply, multiReadJson(out));
    },
  );
};
