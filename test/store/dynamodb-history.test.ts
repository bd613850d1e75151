import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { MAX_COMPUTE_HISTORY_SIZE } from '../../src/config.js';
import { recordUpdate } from '../../src/store/dynamodb/write-protocol.js';
import type { FeatureStore, WriteRecordInput } from '../../src/store/ports.js';
import { openStore } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance, type DynamoDbServerKind } from '../support/dynamodb-backend.js';

/**
 * The DynamoDB layout of the compute history (src/store/dynamodb/history.ts): top-level
 * attributes shifted by one in each write's own UpdateExpression. On both emulators, because the
 * shift relies on operands being read from the item as it was before the update.
 */
const CAT = 'd0_unauth_features';
const T0 = Date.parse('2025-10-16T10:00:00.000Z');
let n = 0;
const uid = (): string => `dynhist-${process.pid}-${++n}`;
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

function write(entityValue: string, i: number, historySize: number): WriteRecordInput {
  return { key: { entityType: 'bright_uid', entityValue, category: CAT }, data: { i }, computeId: `job-${i}`, now: at(i), historySize };
}

test('the largest history fits in one update expression (4 KB)', () => {
  const update = recordUpdate('t', { bright_uid: 'u', category: CAT }, { ...write('u', 1, MAX_COMPUTE_HISTORY_SIZE), eventTime: at(1) }, {});
  assert.ok(update.UpdateExpression.length < 4096, `${update.UpdateExpression.length} characters`);
  assert.ok((update.ConditionExpression ?? '').length < 4096, `(update.ConditionExpression ?? '').length < 4096`);
});

for (const server of ['moto', 'dynalite'] as DynamoDbServerKind[]) {
  describe(`DynamoDB compute history layout: ${server}`, () => {
    let instance: DynamoDbInstance;
    let store: FeatureStore;

    before(async () => {
      instance = await startDynamoDbInstance({ server });
      store = await openStore(instance);
    });
    after(async () => {
      await store.close();
      await instance.teardown();
    });

    async function rawItem(id: string) {
      const res = await instance.raw.send(
        new GetItemCommand({ TableName: instance.tables.bright_uid, Key: { bright_uid: { S: id }, category: { S: CAT } }, ConsistentRead: true }),
      );
      return res.Item ?? {};
    }

    test('positions are top-level attributes, newest at 0, empty positions NULL; the features map is untouched', async () => {
      const id = uid();
      await store.writeRecord(write(id, 1, 3)); // a put: only position 0
      assert.deepEqual(Object.keys(await rawItem(id)).sort(), [
        'bright_uid',
        'category',
        'compute_history_0',
        'features',
        'lineage_compute_id',
        'lineage_updated_at',
      ]);
      await store.writeRecord(write(id, 2, 3)); // an update: every position
      const item = await rawItem(id);
      assert.deepEqual(item.compute_history_0, { M: { compute_id: { S: 'job-2' }, timestamp: { S: at(2) } } });
      assert.deepEqual(item.compute_history_1, { M: { compute_id: { S: 'job-1' }, timestamp: { S: at(1) } } });
      assert.deepEqual(item.compute_history_2, { NULL: true });
      assert.deepEqual(Object.keys(item.features?.M?.meta?.M ?? {}).sort(), ['compute_id', 'created_at', 'updated_at']);
    });

    test(`${MAX_COMPUTE_HISTORY_SIZE + 5} writes with the largest history keep the last ${MAX_COMPUTE_HISTORY_SIZE}, newest first`, async () => {
      const id = uid();
      const key = { entityType: 'bright_uid', entityValue: id, category: CAT };
      const total = MAX_COMPUTE_HISTORY_SIZE + 5;
      for (let i = 1; i <= total; i++) await store.writeRecord(write(id, i, MAX_COMPUTE_HISTORY_SIZE));
      const history = await store.getComputeHistory(key, MAX_COMPUTE_HISTORY_SIZE);
      assert.deepEqual(
        history,
        Array.from({ length: MAX_COMPUTE_HISTORY_SIZE }, (_, k) => ({ compute_id: `job-${total - k}`, timestamp: at(total - k) })),
      );
      assert.equal(Object.keys(await rawItem(id)).filter((a) => a.startsWith('compute_history_')).length, MAX_COMPUTE_HISTORY_SIZE);
    });

    test('a smaller size later: positions beyond it are kept but not read; a larger one again lists them after the newer entries', async () => {
      const id = uid();
      const key = { entityType: 'bright_uid', entityValue: id, category: CAT };
      for (let i = 1; i <= 4; i++) await store.writeRecord(write(id, i, 4)); // [4, 3, 2, 1]
      await store.writeRecord(write(id, 5, 2)); // positions 0-1: [5, 4]; 2-3 still [2, 1]
      assert.deepEqual((await store.getComputeHistory(key, 2))?.map((e) => e.compute_id), ['job-5', 'job-4']);
      await store.writeRecord(write(id, 6, 4)); // [6, 5, 4, 2]: job-3 was dropped while the size was 2
      assert.deepEqual((await store.getComputeHistory(key, 4))?.map((e) => e.compute_id), ['job-6', 'job-5', 'job-4', 'job-2']);
    });
  });
}
