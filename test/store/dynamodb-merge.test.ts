import assert from 'node:assert/strict';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { after, before, describe, test } from 'node:test';
import { PayloadTooLargeError } from '../../src/errors.js';
import type { FeatureStore, MergeRecordInput } from '../../src/store/ports.js';
import { openStore } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';

const T0 = '2025-10-16T10:00:00.000Z';
const key = (entityValue: string) => ({ entityType: 'bright_uid', entityValue, category: 'd0_unauth_features' });

/**
 * What a DynamoDB merge does beyond the universal merge contract: the 400 KB item limit, and
 * the TTL attribute (`expires_at`, epoch seconds) following the merge. On dynalite, which
 * enforces the limit on UpdateItem as DynamoDB does (moto stores the item and fails reading
 * it), so without events (dynalite has no transactions).
 */
describe('DynamoDB merge write: the item size limit and the TTL attribute', () => {
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

  async function storedExpiry(entityValue: string): Promise<string | undefined> {
    const raw = await instance.raw.send(
      new GetItemCommand({ TableName: instance.tables.bright_uid, Key: { bright_uid: { S: entityValue }, category: { S: 'd0_unauth_features' } } }),
    );
    return raw.Item?.expires_at?.N;
  }

  test('set to the merge\'s expiry (epoch seconds) on a new and an existing record; removed by a merge without one', async () => {
    const base = { remove: [], computeId: null, now: T0 };
    await store.mergeRecord({ ...base, key: key('ttl-new'), set: { a: 1 }, expiresAt: '2025-10-16T11:00:00.000Z' });
    assert.equal(await storedExpiry('ttl-new'), String(Date.parse('2025-10-16T11:00:00.000Z') / 1000));
    await store.mergeRecord({ ...base, key: key('ttl-new'), set: { b: 1 }, expiresAt: '2025-10-16T12:00:00.000Z' });
    assert.equal(await storedExpiry('ttl-new'), String(Date.parse('2025-10-16T12:00:00.000Z') / 1000));
    await store.mergeRecord({ ...base, key: key('ttl-new'), set: { c: 1 } });
    assert.equal(await storedExpiry('ttl-new'), undefined);
  });
});
