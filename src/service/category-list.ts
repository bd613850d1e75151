import type { Config } from '../config.js';
import { CategoryNotAllowedError, InvalidEntityTypeError } from '../errors.js';
import type { FeatureRecord } from '../model.js';
import type { CategoryListPosition, RecordStore } from '../store/ports.js';
import type { Clock } from '../timestamps.js';
import type { Expiry } from './expiry.js';

export interface CategoryListInput {
  entityType: string;
  category: string;
  /** Page size, 1 to `LIMITS.computeJobPage`. */
  limit: number;
  from?: CategoryListPosition | undefined;
}

export interface CategoryListOutput {
  entityType: string;
  category: string;
  records: FeatureRecord[];
  /** Where the next page starts, or undefined when this was the last. */
  next: CategoryListPosition | undefined;
}

/**
 * Every record of one category of one entity type, for export (`feature-store export`):
 * checked like a read (allow-list, then entity type); expired records are left out, as reads
 * leave them out, so a page can be shorter than `limit` while a next position is given.
 */
export function categoryListing(deps: { store: RecordStore; config: Pick<Config, 'entityTables' | 'categories'>; expiry: Expiry; clock: Clock }) {
  const { store, config, expiry, clock } = deps;
  const allowed = new Set(config.categories);

  async function listCategory(input: CategoryListInput): Promise<CategoryListOutput> {
    if (!allowed.has(input.category)) throw new CategoryNotAllowedError(input.category, 'read', config.categories);
    if (!Object.hasOwn(config.entityTables, input.entityType)) throw new InvalidEntityTypeError(input.entityType);
    const page = await store.listCategory({ entityType: input.entityType, category: input.category, limit: input.limit, after: input.from });
    const nowMs = clock().getTime();
    const records = page.records.filter((r) => expiry.visible(r, nowMs) !== undefined);
    return { entityType: input.entityType, category: input.category, records, next: page.next };
  }

  return { listCategory };
}
