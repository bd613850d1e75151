import { CategoryNotAllowedError, InvalidEntityTypeError, InvalidInputError, ItemNotFoundError, type InputProblem } from '../errors.js';
import type { FeatureRecord } from '../model.js';
import type { Metrics } from '../metrics.js';
import type { RecordKey, RecordStore } from '../store/ports.js';
import type { Clock } from '../timestamps.js';
import type { FeatureBatchInput, FeatureBatchOutput, FeatureSelectionInput, FeatureSelectionOutput } from './service-types.js';
import { parseFeatureList, selectFeatures } from './feature-selection.js';

type Found = (FeatureRecord | undefined)[];

/**
 * One read, split at its store call: the checks have passed and `keys` are what it reads; `finish`
 * turns the store's aligned answer into the result (or throws the read's not-found error).
 */
interface Read<T> {
  keys: RecordKey[];
  finish(found: Found): T;
}

/** The reads of records, each written once and run either through the store's promise or, where the store can, synchronously. */
export interface RecordReads {
  /** One record. */
  readCategory: (key: RecordKey) => Promise<FeatureRecord>;
  /** The multi-read: a selection of features across categories of one entity. */
  readFeatures: (input: FeatureSelectionInput) => Promise<FeatureSelectionOutput>;
  /** The batch read: the multi-read's selection for many entities. */
  readFeaturesBatch: (input: FeatureBatchInput) => Promise<FeatureBatchOutput>;
  /**
   * The same three reads answered on the calling thread, with the same results, errors and
   * metrics, when the store answers synchronously (`RecordStore.getRecordsNow`, SQLite); else
   * undefined. They throw where the promise forms reject. The HTTP fast paths use them to answer
   * a read without a promise round trip through the store wrappers.
   */
  now:
    | {
        readCategory: (key: RecordKey) => FeatureRecord;
        readFeatures: (input: FeatureSelectionInput) => FeatureSelectionOutput;
        readFeaturesBatch: (input: FeatureBatchInput) => FeatureBatchOutput;
      }
    | undefined;
}

export interface RecordReadsDeps {
  store: RecordStore;
  metrics: Metrics;
  clock: Clock;
  categories: readonly string[];
  batchMaxEntities: number;
  /** A stored record as reads show it (expiry.ts): undefined once expired. */
  visible: (record: FeatureRecord | undefined, nowMs: number) => FeatureRecord | undefined;
  /** The entity type's problem, or undefined when it is configured. */
  checkEntityType: (entityType: string) => InputProblem | undefined;
}

export function createRecordReads(deps: RecordReadsDeps): RecordReads & { checkReadable: (key: RecordKey) => void } {
  const { store, metrics, clock, visible, checkEntityType } = deps;
  const allowed = new Set(deps.categories);

  /** The checks of a one-record read: allow-list first, then entity type, as the old service checked them. */
  function checkReadable(key: RecordKey): void {
    if (!allowed.has(key.category)) throw new CategoryNotAllowedError(key.category, 'read', deps.categories);
    if (checkEntityType(key.entityType) !== undefined) throw new InvalidEntityTypeError(key.entityType);
  }

  function categoryRead(key: RecordKey): Read<FeatureRecord> {
    checkReadable(key);
    return {
      keys: [key],
      finish(found) {
        const record = visible(found[0], clock().getTime());
        metrics.reads.labels(key.entityType, key.category, record === undefined ? 'miss' : 'hit').inc();
        if (record === undefined) throw new ItemNotFoundError(key.entityValue, key.category);
        return record;
      },
    };
  }

  function featuresRead(input: FeatureSelectionInput): Read<FeatureSelectionOutput> {
    const invalidType = checkEntityType(input.entityType);
    if (invalidType !== undefined) throw new InvalidInputError([invalidType]);
    const read = selectionRead(input.entityType, [input.entityValue], input.featureList);
    return { keys: read.keys, finish: (found) => read.finish(found)[0] as FeatureSelectionOutput };
  }

  function batchRead(input: FeatureBatchInput): Read<FeatureBatchOutput> {
    const problems: InputProblem[] = [];
    const invalidType = checkEntityType(input.entityType);
    if (invalidType !== undefined) problems.push(invalidType);
    const max = deps.batchMaxEntities;
    if (input.entityValues.length > max) {
      problems.push({ field: 'entity_values', type: 'too_long', message: `Should have at most ${max} item${max === 1 ? '' : 's'}` });
    }
    if (problems.length > 0) throw new InvalidInputError(problems);
    const read = selectionRead(input.entityType, input.entityValues, input.featureList);
    return { keys: read.keys, finish: (found) => ({ entityType: input.entityType, results: read.finish(found) }) };
  }

  /**
   * The selection of `featureList` for each entity value (the multi-read's answer per entity),
   * with one store call for every (value, allowed category) key.
   */
  function selectionRead(entityType: string, entityValues: readonly string[], featureList: readonly string[]): Read<FeatureSelectionOutput[]> {
    const wanted = parseFeatureList(featureList);
    const permitted = [...wanted.keys()].filter((c) => allowed.has(c));
    const refused = [...wanted.keys()].filter((c) => !allowed.has(c));
    const keys: RecordKey[] = [];
    for (const entityValue of entityValues) for (const category of permitted) keys.push({ entityType, entityValue, category });
    const finish = (found: Found): FeatureSelectionOutput[] => {
      const nowMs = clock().getTime();
      const hits = permitted.map(() => 0);
      const results = entityValues.map((entityValue, e): FeatureSelectionOutput => {
        const records: FeatureRecord[] = [];
        const missing: string[] = [];
        permitted.forEach((category, c) => {
          const record = visible(found[e * permitted.length + c], nowMs);
          if (record === undefined) missing.push(category);
          else {
            hits[c] = (hits[c] ?? 0) + 1;
            records.push(selectFeatures(record, wanted.get(category) ?? '*'));
          }
        });
        return { entityType, entityValue, records, unavailable: [...missing, ...refused] };
      });
      // One counter update per category and result, not per key: a batch may read thousands.
      permitted.forEach((category, c) => {
        const hit = hits[c] ?? 0;
        if (hit > 0) metrics.reads.labels(entityType, category, 'hit').inc(hit);
        if (hit < entityValues.length) metrics.reads.labels(entityType, category, 'miss').inc(entityValues.length - hit);
      });
      return results;
    };
    return { keys, finish };
  }

  const viaPromise = async <T>(read: Read<T>): Promise<T> => read.finish(await store.getRecords(read.keys));
  const getNow = store.getRecordsNow?.bind(store);
  const now = <T>(read: Read<T>): T => read.finish((getNow as NonNullable<typeof getNow>)(read.keys));

  return {
    checkReadable,
    // async: a failed check rejects, as every other service call does.
    readCategory: async (key) => viaPromise(categoryRead(key)),
    readFeatures: async (input) => viaPromise(featuresRead(input)),
    readFeaturesBatch: async (input) => viaPromise(batchRead(input)),
    now:
      getNow === undefined
        ? undefined
        : {
            readCategory: (key) => now(categoryRead(key)),
            readFeatures: (input) => now(featuresRead(input)),
            readFeaturesBatch: (input) => now(batchRead(input)),
          },
  };
}
