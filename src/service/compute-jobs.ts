import type { Config } from '../config.js';
import { CategoryNotAllowedError, InvalidEntityTypeError, InvalidInputError } from '../errors.js';
import type { ComputeJobRecord } from '../model.js';
import type { RecordStore } from '../store/ports.js';

/**
 * Where a page of the by-compute-id query ends: after this record, or (without entity value and
 * category) at the start of this entity type. The HTTP layer hands it out as an opaque cursor.
 */
export interface ComputeJobPosition {
  entityType: string;
  after?: { entityValue: string; category: string } | undefined;
}

export interface ComputeJobsInput {
  computeId: string;
  /** Only this entity type (else every configured one, in configuration order). */
  entityType?: string | undefined;
  /** Only this category (it must be on the allow-list). */
  category?: string | undefined;
  /** Page size, 1 to `LIMITS.computeJobPage`. */
  limit: number;
  /** Continue where the previous page of the same query ended. */
  from?: ComputeJobPosition | undefined;
}

export interface ComputeJobsOutput {
  computeId: string;
  records: ComputeJobRecord[];
  /** Where the next page starts, or undefined when this was the last. */
  next: ComputeJobPosition | undefined;
}

/**
 * "What else did that job write": the records whose current compute_id is the given one, paged
 * in a stable order — entity type (configuration order), category, then the store's order. A
 * page holds at most `limit` records; it can be shorter (even empty) while a next position is
 * given, when the records end exactly at an entity type's end.
 */
export function computeJobQueries(deps: { store: RecordStore; config: Pick<Config, 'entityTables' | 'categories'> }) {
  const { store, config } = deps;
  const allowed = new Set(config.categories);
  const allTypes = Object.keys(config.entityTables);

  async function findByComputeId(input: ComputeJobsInput): Promise<ComputeJobsOutput> {
    if (input.category !== undefined && !allowed.has(input.category)) {
      throw new CategoryNotAllowedError(input.category, 'read', config.categories);
    }
    if (input.entityType !== undefined && !Object.hasOwn(config.entityTables, input.entityType)) {
      throw new InvalidEntityTypeError(input.entityType);
    }
    const types = input.entityType === undefined ? allTypes : [input.entityType];
    let i = 0;
    let after = input.from?.after;
    if (input.from !== undefined) {
      i = types.indexOf(input.from.entityType);
      if (i < 0) throw new InvalidInputError([{ field: 'cursor', type: 'value_error', message: 'Value error, the cursor belongs to another query' }]);
    }
    const records: ComputeJobRecord[] = [];
    for (; i < types.length; i++) {
      const entityType = types[i] as string;
      const page = await store.findByComputeId({
        entityType,
        computeId: input.computeId,
        category: input.category,
        limit: input.limit - records.length,
        after,
      });
      records.push(...page.records);
      after = undefined;
      const last = records[records.length - 1];
      if (page.more && last !== undefined) {
        return { computeId: input.computeId, records, next: { entityType, after: { entityValue: last.entityValue, category: last.category } } };
      }
      if (records.length === input.limit) {
        const nextType = types[i + 1];
        return { computeId: input.computeId, records, next: nextType === undefined ? undefined : { entityType: nextType } };
      }
    }
    return { computeId: input.computeId, records, next: undefined };
  }

  return { findByComputeId };
}
