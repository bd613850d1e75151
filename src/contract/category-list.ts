import { Type, type Static } from 'typebox';
import { PageCursor, PageLimit } from './lineage.js';
import { Category, EXAMPLE_RECORD, RecordResponse } from './schemas.js';

/**
 * Listing every record of a category (what `feature-store export` reads): whole records, paged
 * with an opaque cursor. For export and inspection, not for serving: it walks the store (a
 * table Scan on DynamoDB).
 */
export const CategoryListParams = Type.Object({ category: Category });

export const CategoryListQuery = Type.Object({
  entity_type: Type.Optional(
    Type.String({
      description: 'A configured entity type (default `bright_uid`).',
      default: 'bright_uid',
      examples: ['bright_uid'],
      'x-enum-from': 'ENTITY_TYPES',
    }),
  ),
  limit: Type.Optional(PageLimit),
  cursor: Type.Optional(PageCursor),
});

export const CategoryListResponse = Type.Object(
  {
    entity_type: Type.String(),
    category: Type.String(),
    records: Type.Array(RecordResponse, {
      description:
        'Records as a read returns them, in the store\'s stable order (SQLite: by entity value). A page can be shorter than `limit`, even empty, while `next_cursor` is not null (DynamoDB reads a bounded part of the table per page; expired records are left out).',
    }),
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
  },
  {
    description: 'One page of the records of a category.',
    examples: [{ entity_type: 'bright_uid', category: 'd0_unauth_features', records: [EXAMPLE_RECORD], next_cursor: null }],
  },
);
export type CategoryListResponse = Static<typeof CategoryListResponse>;
