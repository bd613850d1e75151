import { CategoryNotAllowedError, InvalidEntityTypeError, InvalidInputError, ItemNotFoundError, type InputProblem } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { FeatureRecord, OutboxEvent } from '../model.js';
import type { RecordKey, RecordStore } from '../store/ports.js';
import { formatTimestamp, type Clock } from '../timestamps.js';

/** Who deletes what; deleting takes the write right (`source` in `WRITE_SOURCES`). */
export interface DeleteInput {
  source: string;
  entityType: string;
  entityValue: string;
}

export interface DeleteCategoryInput extends DeleteInput {
  category: string;
}

export interface EraseOutput {
  entityType: string;
  entityValue: string;
  /** Categories whose record this call deleted, in allow-list order. */
  deletedCategories: string[];
}

/** What the delete operations take from the feature service: its store, rules and events. */
export interface DeleteContext {
  store: RecordStore;
  /** The allow-list, in configuration order. */
  categories: readonly string[];
  clock: Clock;
  metrics: Metrics;
  /** The write right: undefined when `source` may write. */
  checkSource(source: string): InputProblem | undefined;
  isEntityType(entityType: string): boolean;
  /** Builds the `feature_deleted` event of a deleted record; undefined when events are off. */
  deletedEvent: ((key: RecordKey, now: string, deleted: FeatureRecord) => OutboxEvent) | undefined;
}

/**
 * Deleting one category of an entity, and erasing the entity (every category). Each deleted
 * record's `feature_deleted` event is recorded atomically with its delete (the store's
 * `deleteRecord` contract), so no delete is acknowledged without its event.
 */
export function createDeleteOperations(ctx: DeleteContext) {
  const { store, clock, metrics, deletedEvent } = ctx;
  const allowed = new Set(ctx.categories);

  /** The write right, then the allow-list, then the entity type. */
  function check(input: DeleteInput, category?: string): void {
    const source = ctx.checkSource(input.source);
    if (source !== undefined) throw new InvalidInputError([source]);
    if (category !== undefined && !allowed.has(category)) throw new CategoryNotAllowedError(category, 'delete', ctx.categories);
    if (!ctx.isEntityType(input.entityType)) throw new InvalidEntityTypeError(input.entityType);
  }

  /** Deletes one record with its event; false when there was none. */
  async function remove(key: RecordKey): Promise<boolean> {
    const now = formatTimestamp(clock());
    const event = deletedEvent === undefined ? undefined : (deleted: FeatureRecord) => deletedEvent(key, now, deleted);
    const deleted = await store.deleteRecord({ key, now, event });
    if (deleted === undefined) return false;
    metrics.deletes.inc({ entity_type: key.entityType, category: key.category });
    return true;
  }

  /** Deletes one record; `ItemNotFoundError` (404) when there is none. */
  async function deleteCategory(input: DeleteCategoryInput): Promise<RecordKey> {
    check(input, input.category);
    const key: RecordKey = { entityType: input.entityType, entityValue: input.entityValue, category: input.category };
    if (!(await remove(key))) throw new ItemNotFoundError(key.entityValue, key.category);
    return key;
  }

  /**
   * Erasure: a delete of every allowed category (the allow-list is configuration, so bounded),
   * each reporting whether it found a record. No read comes first: a read may be eventually
   * consistent (DynamoDB by default) and miss a record written a moment ago, and an erasure
   * must not. A record written after its category's delete survives; one deleted concurrently
   * by another call is reported by that call.
   */
  async function eraseEntity(input: DeleteInput): Promise<EraseOutput> {
    check(input);
    const { entityType, entityValue } = input;
    const removed = await Promise.all(ctx.categories.map((category) => remove({ entityType, entityValue, category })));
    return { entityType, entityValue, deletedCategories: ctx.categories.filter((_, i) => removed[i]) };
  }

  return { deleteCategory, eraseEntity };
}
