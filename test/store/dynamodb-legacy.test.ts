import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { FeatureStore } from '../../src/store/ports.js';
import { getOne, writeInput } from '../support/store-calls.js';
import { openStore } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';

/**
 * Items exactly as the old Python service (boto3) wrote them, put with the low-level client:
 * numbers as N (also inside lists and maps), timestamps with microseconds and `+00:00`,
 * compute_id as NULL or missing. And the other direction: items this backend writes keep that
 * layout, so the old service could still read them.
 */
const CAT = 'd0_unauth_features';
let n = 0;
const uid = (): string => `legacy-${process.pid}-${++n}`;

describe('DynamoDB: items in the old service\'s format', () => {
  let instance: DynamoDbInstance;
  let store: FeatureStore;
  const table = (): string => instance.tables.bright_uid ?? '';

  before(async () => {
    instance = await startDynamoDbInstance();
    store = await openStore(instance);
  });
  after(async () => {
    await store.close();
    await instance.teardown();
  });

  async function rawItem(id: string): Promise<Record<string, AttributeValue> | undefined> {
    const res = await instance.raw.send(
      new GetItemCommand({ TableName: table(), Key: { bright_uid: { S: id }, category: { S: CAT } }, ConsistentRead: true }),
    );
    return res.Item;
  }

  test('a raw boto3-style item reads back with exact numbers and canonical timestamps', async () => {
    const id = uid();
    await instance.raw.send(
      new PutItemCommand({
        TableName: table(),
        Item: {
          bright_uid: { S: id },
          category: { S: CAT },
          features: {
            M: {
              data: {
                M: {
                  credit_score: { N: '750' },
                  ratio: { N: '0.35' },
                  as_decimal: { N: '750.0' },
                  negative: { N: '-12.5' },
                  scores: { L: [{ N: '1' }, { N: '0.5' }, { S: '750' }] },
                  nested: { M: { deep: { L: [{ M: { x: { N: '3' } } }] } } },
                  flag: { BOOL: true },
                  nothing: { NULL: true },
                },
              },
              meta: {
                M: {
                  created_at: { S: '2025-10-16T10:00:00.123456+00:00' },
                  updated_at: { S: '2025-10-17T11:30:00.987654+00:00' },
                },
              },
            },
          },
        },
      }),
    );
    const record = await getOne(store, 'bright_uid', id, CAT);
    assert.deepEqual(record, {
      entityType: 'bright_uid',
      entityValue: id,
      category: CAT,
      data: {
        credit_score: 750,
        ratio: 0.35,
        as_decimal: 750,
        negative: -12.5,
        scores: [1, 0.5, '750'],
        nested: { deep: [{ x: 3 }] },
        flag: true,
        nothing: null,
      },
      meta: { created_at: '2025-10-16T10:00:00.123Z', updated_at: '2025-10-17T11:30:00.987Z', compute_id: null },
    });
    assert.equal(JSON.stringify(record?.data.as_decimal), '750');
  });

  test('the next write keeps the old created_at as stored and changes nothing else of the layout', async () => {
    const id = uid();
    await instance.insertLegacy({
      entityType: 'bright_uid',
      entityValue: id,
      category: CAT,
      data: { credit_score: 700 },
      createdAt: '2025-10-16T10:00:00.123456+00:00',
      updatedAt: '2025-10-16T10:00:00.123456+00:00',
      computeId: 'old-job',
    });
    const meta = await store.writeRecord(writeInput({
      entityType: 'bright_uid',
      entityValue: id,
      category: CAT,
      data: { credit_score: 710, ratio: 0.25 },
      computeId: null,
      now: '2025-11-01T00:00:00.000Z',
    }));
    assert.equal(meta.outcome, 'applied');
    assert.deepEqual(await rawItem(id), {
      bright_uid: { S: id },
      category: { S: CAT },
      features: {
        M: {
          data: { M: { credit_score: { N: '710' }, ratio: { N: '0.25' } } },
          meta: {
            M: {
              // The stored value is left exactly as the old service wrote it.
              created_at: { S: '2025-10-16T10:00:00.123456+00:00' },
              updated_at: { S: '2025-11-01T00:00:00.000Z' },
              compute_id: { NULL: true },
            },
          },
        },
      },
    });
  });

  test('a new record is written in the same layout: numbers as N; beside it only the lineage index keys', async () => {
    const id = uid();
    await store.writeRecord(writeInput({
      entityType: 'bright_uid',
      entityValue: id,
      category: CAT,
      data: { score: 750, list: [0.35, 'x', null, { a: true }] },
      computeId: 'job-1',
      now: '2025-10-16T10:00:00.000Z',
    }));
    assert.deepEqual(await rawItem(id), {
      bright_uid: { S: id },
      category: { S: CAT },
      features: {
        M: {
          data: {
            M: {
              score: { N: '750' },
              list: { L: [{ N: '0.35' }, { S: 'x' }, { NULL: true }, { M: { a: { BOOL: true } } }] },
            },
          },
          meta: {
            M: {
              created_at: { S: '2025-10-16T10:00:00.000Z' },
              updated_at: { S: '2025-10-16T10:00:00.000Z' },
              compute_id: { S: 'job-1' },
            },
          },
        },
      },
      // Top-level attributes the old service ignores: the by_compute_id index keys.
      lineage_compute_id: { S: 'job-1' },
      lineage_updated_at: { S: '2025-10-16T10:00:00.000Z' },
    });
  });

  test('a legacy number with more precision than a double reads as the nearest double, not a BigInt', async () => {
    const id = uid();
    await instance.raw.send(
      new PutItemCommand({
        TableName: table(),
        Item: {
          bright_uid: { S: id },
          category: { S: CAT },
          features: {
            M: {
              data: { M: { big: { N: '123456789012345678901234567890' }, precise: { N: '0.12345678901234567890123' } } },
              meta: { M: { created_at: { S: '2025-10-16T10:00:00+00:00' }, updated_at: { S: '2025-10-16T10:00:00+00:00' } } },
            },
          },
        },
      }),
    );
    const record = await getOne(store, 'bright_uid', id, CAT);
    assert.equal(record?.data.big, 1.2345678901234568e29);
    assert.equal(record?.data.precise, 0.12345678901234568);
    assert.equal(record?.meta.created_at, '2025-10-16T10:00:00.000Z');
  });
});
