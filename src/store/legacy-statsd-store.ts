import type { Config } from '../config.js';
import type { Statsd } from '../statsd.js';
import { delegate } from './delegate.js';
import type { FeatureStore, RecordKey } from './ports.js';

/**
 * The old service's DynamoDB StatsD metrics around a DynamoDB store: per key read
 * `dynamodb.get_item.duration|success|error|found|not_found`, per write
 * (and merge) `dynamodb.update_item.duration|success|error` and the gauge `dynamodb.update_item.feature_count`,
 * tagged `category` and `table_type` (the entity type). A batch read counts once per key, with
 * the batch's duration (the old service read one key per request).
 */
export function legacyStatsdStore(store: FeatureStore, statsd: Statsd, config: Pick<Config, 'entityTables' | 'categories'>): FeatureStore {
  const entityTypes = Object.keys(config.entityTables);
  const tags = (key: RecordKey) => ({
    category: config.categories.includes(key.category) ? key.category : 'other',
    table_type: entityTypes.includes(key.entityType) ? key.entityType : 'other',
  });
  const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
  return {
    ...delegate(store),
    async getRecords(keys) {
      const start = process.hrtime.bigint();
      try {
        const records = await store.getRecords(keys);
        const ms = elapsedMs(start);
        keys.forEach((key, i) => {
          const t = tags(key);
          statsd.timing('dynamodb.get_item.duration', ms, t);
          statsd.count('dynamodb.get_item.success', t);
          statsd.count(records[i] === undefined ? 'dynamodb.get_item.not_found' : 'dynamodb.get_item.found', t);
        });
        return records;
      } catch (err) {
        const ms = elapsedMs(start);
        for (const key of keys) {
          statsd.timing('dynamodb.get_item.duration', ms, tags(key));
          statsd.count('dynamodb.get_item.error', tags(key));
        }
        throw err;
      }
    },
    async writeRecord(input) {
      const t = tags(input.key);
      const start = process.hrtime.bigint();
      let outcome = 'error';
      try {
        const result = await store.writeRecord(input);
        outcome = 'success';
        statsd.gauge('dynamodb.update_item.feature_count', Object.keys(input.data).length, t);
        return result;
      } finally {
        statsd.timing('dynamodb.update_item.duration', elapsedMs(start), t);
        statsd.count(`dynamodb.update_item.${outcome}`, t);
      }
    },
    async mergeRecord(input) {
      const t = tags(input.key);
      const start = process.hrtime.bigint();
      let outcome = 'error';
      try {
        const result = await store.mergeRecord(input);
        outcome = 'success';
        statsd.gauge('dynamodb.update_item.feature_count', result.featureCount, t);
        return result;
      } finally {
        statsd.timing('dynamodb.update_item.duration', elapsedMs(start), t);
        statsd.count(`dynamodb.update_item.${outcome}`, t);
      }
    },
  };
}
