import type { FastifyContextConfig, FastifyRequest } from 'fastify';

/**
 * What each route declares for access control (access.ts): the scope it needs, the categories
 * a request touches and the `source` it claims. Kept beside each other so that routes with the
 * same body shape declare the same thing.
 */
export type AccessBody = { meta?: { source?: unknown }; data?: { category?: unknown; feature_list?: unknown } };

const body = (request: FastifyRequest): AccessBody => (request.body ?? {});

/** The categories a `feature_list` names (`category:feature` entries). */
export function categoriesOfFeatureList(list: unknown): string[] {
  return Array.isArray(list) ? list.map((ref) => String(ref).slice(0, String(ref).indexOf(':'))) : [];
}

function featureListCategories(request: FastifyRequest): string[] {
  return categoriesOfFeatureList(body(request).data?.feature_list);
}

/** The category a write or merge body touches (`data.category`). */
export const writeCategories = (b: AccessBody): string[] => [String(b.data?.category)];
/** The `source` a write or merge body claims (`meta.source`). */
export const writeSource = (b: AccessBody): { value: string; loc: (string | number)[] } => ({ value: String(b.meta?.source), loc: ['body', 'meta', 'source'] });

/** A write or merge: `data.category`, claiming `meta.source`. */
export const writeAccess: FastifyContextConfig = {
  access: 'write',
  categories: (request) => writeCategories(body(request)),
  source: (request) => writeSource(body(request)),
};

/** A read of the category in the path. */
export const pathCategoryRead: FastifyContextConfig = {
  access: 'read',
  categories: (request) => [(request.params as { category: string }).category],
};

/** A read of the category in the query string. */
export const queryCategoryRead: FastifyContextConfig = {
  access: 'read',
  categories: (request) => [(request.query as { category: string }).category],
};

/** A multi-read or batch read: the categories of `feature_list`. */
export const featureListRead: FastifyContextConfig = { access: 'read', categories: featureListCategories };

/** A delete of the category in the path, claiming the `source` query parameter. */
export const categoryDelete: FastifyContextConfig = {
  access: 'write',
  categories: (request) => [(request.params as { category: string }).category],
  source: (request) => ({ value: (request.query as { source: string }).source, loc: ['query', 'source'] }),
};

/** An erasure touches every category, so a key limited to some may not do it. */
export const entityErase: FastifyContextConfig = {
  access: 'write',
  categories: () => 'all',
  source: (request) => ({ value: (request.query as { source: string }).source, loc: ['query', 'source'] }),
};

/** A by-compute-id query: its `category` filter, or every category without one. */
export const computeJobRead: FastifyContextConfig = {
  access: 'read',
  categories: (request) => {
    const category = (request.query as { category?: string }).category;
    return category === undefined ? 'all' : [category];
  },
};

/** Starting a rollback rewrites records of every category: the write right over all of them. */
export const rollbackStart: FastifyContextConfig = { access: 'write', categories: () => 'all' };

/** A rollback's progress: reading it takes the read right. */
export const rollbackRead: FastifyContextConfig = { access: 'read', categories: () => 'all' };
