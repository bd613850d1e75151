import { Type, type Static } from 'typebox';
import { Category, EntityValue } from './schemas.js';

/**
 * Deleting one category of an entity, or every category of it (erasure). Deleting takes the
 * write right: `source` must be one of `WRITE_SOURCES`.
 */

/** In a path an unknown entity type is a 400 `Invalid entity_type`, as on reads. */
const EntityTypePath = Type.String({
  minLength: 1,
  description: 'A configured entity type (default `bright_uid`, `account_pid`).',
  examples: ['bright_uid'],
});

export const DeleteCategoryParams = Type.Object({ entity_type: EntityTypePath, entity_value: EntityValue, category: Category });
export const DeleteEntityParams = Type.Object({ entity_type: EntityTypePath, entity_value: EntityValue });

export const DeleteQuery = Type.Object({
  source: Type.String({ description: 'The caller; must be one of `WRITE_SOURCES` (deleting takes the write right).', examples: ['prediction_service'] }),
});
export type DeleteQuery = Static<typeof DeleteQuery>;

export const DeleteCategoryResponse = Type.Object(
  {
    message: Type.String({ examples: ['Category deleted'] }),
    entity_type: Type.String(),
    entity_value: Type.String(),
    category: Type.String(),
  },
  { examples: [{ message: 'Category deleted', entity_type: 'bright_uid', entity_value: 'user-12345', category: 'd0_unauth_features' }] },
);
export type DeleteCategoryResponse = Static<typeof DeleteCategoryResponse>;

export const DeleteEntityResponse = Type.Object(
  {
    message: Type.String({ examples: ['Entity deleted'] }),
    entity_type: Type.String(),
    entity_value: Type.String(),
    deleted_categories: Type.Array(Type.String(), { description: 'The categories that had a record and were deleted, in allow-list order.' }),
  },
  {
    examples: [
      { message: 'Entity deleted', entity_type: 'bright_uid', entity_value: 'user-12345', deleted_categories: ['d0_unauth_features', 'ncr_unauth_features'] },
    ],
  },
);
export type DeleteEntityResponse = Static<typeof DeleteEntityResponse>;
