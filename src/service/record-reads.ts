import { CategoryNotAllowedError, InvalidEntityTypeError, InvalidInputError, ItemNotFoundError, type InputProblem } from '../errors.js';
import type { FeatureRecord } from '../model.js';
import type { Metrics } from '../metrics.js';
import type { RecordKey, RecordStore, StoredRecord } from '../store/ports.js';
import type { Clock } from '../timestamps.js';
import type { FeatureBatchInput, FeatureBatchOutput, FeatureBatchTextOutput, FeatureSelectionInput, FeatureSelectionOutput } from './service-types.js';
import { parseFeatureList, selectFeatures, type FeatureSelection } from './feature-selection.js';
import { showStored } from './batch-text.js';
import type { Expiry } from './expiry.js';

type Found = (FeatureRecord | undefined)[];

/**
 * One read, split at its store call: the checks have passed and `keys` are what it reads; `finish`
 * turns the store's aligned answer (records, or stored text) into the result (or throws the
 * read's not-found error).
 */
interface Read<T, F = FeatureRecord> {
  keys: RecordKey[];
  finish(found: (F | undefined)[]): T;
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
        /**
         * `readFeatures` answered as text (batch-text.ts), as the batch read of its one entity value,
         * with `readFeatures`' checks, errors and metrics, when the store also reads stored text
         * (`RecordStore.getStoredNow`); else undefined.
         */
        readFeaturesText: ((input: FeatureSelectionInput) => FeatureBatchTextOutput) | undefined;
        /**
         * `readFeaturesBatch` answered as text (batch-text.ts), with the same checks, errors and
         * metrics, when the store also reads stored text (`RecordStore.getStoredNow`); else undefined.
         */
        readFeaturesBatchText: ((input: FeatureBatchInput) => FeatureBatchTextOutput) | undefined;
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
  /** The same for a record read as stored text (expiry.ts). */
  expiry: Pick<Expiry, 'hasTtl' | 'shownExpiry'>;
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
    checkBatch(input);
    const read = selectionRead(input.entityType, input.entityValues, input.featureList);
    return { keys: read.keys, finish: (found) => ({ entityType: input.entityType, results: read.finish(found) }) };
  }

  /** The batch read as text: the same keys, checks and metrics as `batchRead`. */
  function batchTextRead(input: FeatureBatchInput): Read<FeatureBatchTextOutput, StoredRecord> {
    checkBatch(input);
    return selectionTextRead(input.entityType, input.entityValues, input.featureList);
  }

  /** The multi-read as text: the checks of `featuresRead`, the keys and metrics of `selectionRead` for its one entity. */
  function featuresTextRead(input: FeatureSelectionInput): Read<FeatureBatchTextOutput, StoredRecord> {
    const invalidType = checkEntityType(input.entityType);
    if (invalidType !== undefined) throw new InvalidInputError([invalidType]);
    return selectionTextRead(input.entityType, [input.entityValue], input.featureList);
  }

  /** `selectionRead` as text (batch-text.ts): the same keys, and the same read metrics. */
  function selectionTextRead(entityType: string, entityValues: readonly string[], featureList: readonly string[]): Read<FeatureBatchTextOutput, StoredRecord> {
    const plan = selectionPlan(entityType, entityValues, featureList);
    const selections = plan.permitted.map((category) => plan.wanted.get(category) ?? '*');
    return {
      keys: plan.keys,
      finish(found) {
        const { records, hits } = showStored(found, plan.permitted, selections, deps.expiry, clock().getTime());
        countReads(entityType, plan.permitted, hits, entityValues.length);
        return { entityType, entityValues, categories: plan.permitted, refused: plan.refused, records };
      },
    };
  }

  function checkBatch(input: FeatureBatchInput): void {
    const problems: InputProblem[] = [];
    const invalidType = checkEntityType(input.entityType);
    if (invalidType !== undefined) problems.push(invalidType);
    const max = deps.batchMaxEntities;
    if (input.entityValues.length > max) {
      problems.push({ field: 'entity_values', type: 'too_long', message: `Should have at most ${max} item${max === 1 ? '' : 's'}` });
    }
    if (problems.length > 0) throw new InvalidInputError(problems);
  }

  /** The categories `featureList` asks for, split by the allow-list, and every (value, allowed category) key in that order. */
  function selectionPlan(entityType: string, entityValues: readonly string[], featureList: readonly string[]) {
    const wanted: Map<string, FeatureSelection> = parseFeatureList(featureList);
    const permitted: string[] = [];
    const refused: string[] = [];
    for (const category of wanted.keys()) (allowed.has(category) ? permitted : refused).push(category);
    const keys: RecordKey[] = [];
    for (const entityValue of entityValues) for (const category of permitted) keys.push({ entityType, entityValue, category });
    return { wanted, permitted, refused, keys };
  }

  /** The read metrics: one counter update per category and result, not per key (a batch may read thousands). */
  function countReads(entityType: string, categories: readonly string[], hits: readonly number[], entities: number): void {
    for (let c = 0; c < categories.length; c++) {
      const category = categories[c] as string;
      const hit = hits[c] ?? 0;
      if (hit > 0) metrics.reads.labels(entityType, category, 'hit').inc(hit);
      if (hit < entities) metrics.reads.labels(entityType, category, 'miss').inc(entities - hit);
    }
  }

  /**
   * The selection of `featureList` for each entity value (the multi-read's answer per entity),
   * with one store call for every (value, allowed category) key.
   */
  function selectionRead(entityType: string, entityValues: readonly string[], featureList: readonly string[]): Read<FeatureSelectionOutput[]> {
    const { wanted, permitted, refused, keys } = selectionPlan(entityType, entityValues, featureList);
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
      countReads(entityType, permitted, hits, entityValues.length);
      return results;
    };
    return { keys, finish };
  }

  const viaPromise = async <T>(read: Read<T>): Promise<T> => read.finish(await store.getRecords(read.keys));
  const getNow = store.getRecordsNow?.bind(store);
  const now = <T>(read: Read<T>): T => read.finish((getNow as NonNullable<typeof getNow>)(read.keys));
  const getStored = store.getStoredNow?.bind(store);
  /** A read answered synchronously from the stored text, where the store reads it (else undefined). */
  const asText = <I>(read: (input: I) => Read<FeatureBatchTextOutput, StoredRecord>): ((input: I) => FeatureBatchTextOutput) | undefined =>
    getStored === undefined
      ? undefined
      : (input) => {
          const r = read(input);
          return r.finish(getStored(r.keys));
        };

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
            readFeaturesText: asText(featuresTextRead),
            readFeaturesBatchText: asText(batchTextRead),
          },
  };
}
