import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PayloadTooLargeError } from '../../src/errors.js';
import type { FeatureStore, MergeRecordInput } from '../../src/store/ports.js';
import { openStore } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';

const T0 = '2025-10-16T10:00:00.000Z';
const key = (entityValue: string) => ({ entityType: 'bright_uid', entityValue, category: 'd0_unauth_features' });

/**
 * What a DynamoDB merge does beyond the universal merge contract: the 400 KB item limit. On
 * dynalite, which enforces the limit on UpdateItem as DynamoDB does (moto stores the item and
 * fails reading it), so without events (dynalite has no transactions).
 */
describe('DynamoDB merge write: the item size limit', () => {
  let instance: DynamoDbInstance;
  let store: FeatureStore;

  before(async () => {
    instance = await startDynamoDbInstance({ server: 'dynalite' });
    store = await openStore(instance);
  });
  after(async () => {
    await store?.close();
    await instance?.teardown();
  });

  const merge = (entityValue: string, set: Record<string, string>): MergeRecordInput => ({
    key: key(entityValue),
    set,
    remove: [],
    computeId: null,
    now: T0,
  });

  test('features alone over 400 KB are refused with 413 before any request', async () => {
    await assert.rejects(store.mergeRecord(merge('alone', { blob: 'x'.repeat(400 * 1024) })), PayloadTooLargeError);
    assert.deepEqual(await store.getRecords([key('alone')]), [undefined]);
  });

  test('a merge that would grow the stored record past 400 KB is 413 and changes nothing', async () => {
    await store.writeRecord({ key: key('grow'), data: { a: 'x'.repeat(300 * 1024) }, computeId: null, now: T0 });
    await assert.rejects(store.mergeRecord(merge('grow', { b: 'y'.repeat(200 * 1024) })), PayloadTooLargeError);
    const [record] = await store.getRecords([key('grow')]);
    assert.deepEqual(Object.keys(record?.data ?? {}), ['a']);
  });
});
