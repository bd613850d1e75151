import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EntityTypeQuery, ReadParams } from '../../contract/schemas.js';
import { VersionsResponse } from '../../contract/versions.js';
import type { FeatureService } from '../../service/feature-service.js';
import type { VersionsOutput } from '../../service/versions.js';
import { errorResponses } from '../error-responses.js';
import { pathCategoryRead } from '../route-access.js';
import { DEFAULT_ENTITY_TYPE } from './items.js';

/** Keyed like a record: the entity type's name first; `event_time` null when a write gave none. */
export function versionsResponse(out: VersionsOutput): VersionsResponse {
  return {
    [out.key.entityType]: out.key.entityValue,
    category: out.key.category,
    versions: out.versions.map((v) => ({ compute_id: v.computeId, updated_at: v.updatedAt, event_time: v.eventTime ?? null, data: v.data })),
  };
}

/** The versions of one record (README "Versions and rollback"); the point-in-time read is `as_of` on the ordinary read (items.ts). */
export const versionRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.get(
    '/get/item/:entity_value/:category/versions',
    {
      config: pathCategoryRead,
      schema: {
        summary: 'Versions of one record',
        description:
          'The current version, then the earlier ones kept (`VERSIONS_KEPT`, default 3), newest first, each with its write\'s `compute_id`, `updated_at`, `event_time` and data. Checked like a read: 400 for a category not on the allow-list or an unknown `entity_type`, 404 when the record does not exist.',
        tags: ['versions'],
        params: ReadParams,
        querystring: EntityTypeQuery,
        response: { 200: VersionsResponse, ...errorResponses(400, 404, 414, 503) },
      },
    },
    async (request) =>
      versionsResponse(
        await service.readVersions({
          entityType: request.query.entity_type ?? DEFAULT_ENTITY_TYPE,
          entityValue: request.params.entity_value,
          category: request.params.category,
        }),
      ),
  );
};
