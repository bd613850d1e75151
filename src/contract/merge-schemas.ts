import { Type, type Static } from 'typebox';
import { LIMITS } from './limits.js';
import { WriteRequest } from './schemas.js';

/**
 * The merge write (partial update): the write's body, but `features` is merged into the stored
 * features instead of replacing them, and a `null` value removes that feature.
 */
export const MergeRequest = Type.Object(
  {
    meta: WriteRequest.properties.meta,
    data: Type.Object({
      ...WriteRequest.properties.data.properties,
      features: Type.Record(Type.String(), Type.Unknown(), {
        minProperties: 1,
        maxProperties: LIMITS.featureCount,
        description: `Features to add or replace (1 to ${LIMITS.featureCount}); \`null\` removes that feature. Features not named are kept.`,
        examples: [{ credit_score: 760, stale_feature: null }],
      }),
    }),
  },
  { description: 'Merge features into one category of one entity (partial update).' },
);
export type MergeRequest = Static<typeof MergeRequest>;
