import { Type, type Static } from 'typebox';
import { EntityType, EntityValue, EXAMPLE_RECORD, FeatureList, ReadMeta, RecordResponse } from './schemas.js';

/**
 * The batch read: the multi-read's selection for many entities of one type in one request.
 * The number of entity values is bounded by the server's `BATCH_MAX_ENTITIES` (default 1,000),
 * a deployment setting, so it is checked by the service rather than fixed in this schema.
 */
export const BatchReadRequest = Type.Object(
  {
    meta: ReadMeta,
    data: Type.Object({
      entity_type: EntityType,
      entity_values: Type.Array(EntityValue, {
        minItems: 1,
        description:
          'The entities to read, answered in this order; duplicates are allowed and each gets its answer. At most `BATCH_MAX_ENTITIES` (default 1,000).',
        examples: [['user-12345', 'user-67890']],
      }),
      feature_list: FeatureList,
    }),
  },
  { description: 'Read the same selected features of many entities of one entity type.' },
);
export type BatchReadRequest = Static<typeof BatchReadRequest>;

/** One entity's answer: the multi-read's answer without `entity_type` (it is the batch's). */
export const BatchReadResult = Type.Object({
  entity_value: Type.String(),
  items: Type.Record(Type.String(), RecordResponse),
  unavailable_feature_categories: Type.Array(Type.String()),
});
export type BatchReadResult = Static<typeof BatchReadResult>;

export const BatchReadResponse = Type.Object(
  {
    entity_type: Type.String(),
    results: Type.Array(BatchReadResult, { description: 'One result per requested entity value, in request order.' }),
  },
  {
    examples: [
      {
        entity_type: 'bright_uid',
        results: [
          {
            entity_value: 'user-12345',
            items: {
              d0_unauth_features: EXAMPLE_RECORD,
            },
            unavailable_feature_categories: ['ncr_unauth_features'],
          },
          { entity_value: 'user-67890', items: {}, unavailable_feature_categories: ['d0_unauth_features', 'ncr_unauth_features'] },
        ],
      },
    ],
  },
);
export type BatchReadResponse = Static<typeof BatchReadResponse>;
