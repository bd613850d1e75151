import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PayloadTooLargeError } from '../../src/errors.js';
import type { Runtime } from '../../src/server.js';
import type { FeatureStore, WriteCategoryInput } from '../../src/store/feature-store.js';
import { openStore } from '../support/backend.js';
import type { RequestLog } from '../support/dynalite.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';
import { client, startService } from '../support/service.js';

/**
 * DynamoDB requests per operation, counted where dynalite receives them (the real wire
 * traffic; nothing is mocked). The numbers are the backend's promise:
 * - a write to an existing record: 1 UpdateItem; a record's first write: UpdateItem + PutItem;
 * - a read: 1 GetItem; a multi-category read: 1 BatchGetItem;
 * - an item over 400 KB: 413 before any request.
 */
const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
const T0 = '2025-10-16T10:00:00.000Z';
let n = 0;
const uid = (): string => `req-${process.pid}-${++n}`;

function write(entityValue: string, extra: Partial<WriteCategoryInput> = {}): WriteCategoryInput {
  return { entityType: 'bright_uid', entityValue, category: CAT, data: { score: 1 }, computeId: null, now: T0, ...extra };
}

describe('DynamoDB requests per store call', () => {
  let instance: DynamoDbInstance;
  let store: FeatureStore;
  let requests: RequestLog;

  before(async () => {
    instance = await startDynamoDbInstance({ forceDynalite: true });
    requests = instance.requests as RequestLog;
    store = await openStore(instance);
  });
  after(async () => {
    await store.close();
    await instance.teardown();
  });

  test('first write: one failed conditional UpdateItem, then one PutItem', async () => {
    const id = uid();
    assert.deepEqual(await requests.during(() => store.writeCategory(write(id))), { PutItem: 1, UpdateItem: 1 });
  });

  test('every later write: exactly one UpdateItem, also with an event', async () => {
    const id = uid();
    await store.writeCategory(write(id));
    assert.deepEqual(await requests.during(() => store.writeCategory(write(id, { data: { score: 2 } }))), { UpdateItem: 1 });
    const event = {
      id: '00000000-0000-4000-8000-000000000001',
      key: `bright_uid:${id}`,
      event: {
        event_id: '00000000-0000-4000-8000-000000000001',
        event_type: 'feature_available' as const,
        timestamp: T0,
        entity_type: 'bright_uid',
        entity_id: id,
        resource_type: 'feature' as const,
        resource_name: CAT,
        compute_id: null,
        features: ['score'],
      },
    };
    assert.deepEqual(await requests.during(() => store.writeCategory(write(id, { event }))), { UpdateItem: 1 });
  });

  test('a write to a record in the old service\'s format: one UpdateItem', async () => {
    const id = uid();
    await instance.insertLegacy({
      entityType: 'bright_uid',
      entityValue: id,
      category: CAT,
      data: { score: 700 },
      createdAt: '2025-10-16T10:00:00.123456+00:00',
      updatedAt: '2025-10-16T10:00:00.123456+00:00',
      computeId: null,
    });
    assert.deepEqual(await requests.during(() => store.writeCategory(write(id))), { UpdateItem: 1 });
  });

  test('a read is one GetItem, hit or miss', async () => {
    const id = uid();
    await store.writeCategory(write(id));
    assert.deepEqual(await requests.during(() => store.getCategory('bright_uid', id, CAT)), { GetItem: 1 });
    assert.deepEqual(await requests.during(() => store.getCategory('bright_uid', uid(), CAT)), { GetItem: 1 });
  });

  test('a multi-category read is one BatchGetItem', async () => {
    const id = uid();
    await store.writeCategory(write(id));
    await store.writeCategory(write(id, { category: CAT2 }));
    let found = 0;
    const counts = await requests.during(async () => {
      found = (await store.getCategories('bright_uid', id, [CAT, CAT2])).length;
    });
    assert.equal(found, 2);
    assert.deepEqual(counts, { BatchGetItem: 1 });
  });

  test('an item over 400 KB is refused with 413 before any request; one just under is stored', async () => {
    const id = uid();
    const counts = await requests.during(async () => {
      await assert.rejects(store.writeCategory(write(id, { data: { blob: 'x'.repeat(400 * 1024) } })), PayloadTooLargeError);
      await assert.rejects(
        store.writeCategory(write(id, { data: Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`f${i}`, 'y'.repeat(160)])) })),
        PayloadTooLargeError,
      );
    });
    assert.deepEqual(counts, {});
    // Just under the estimate's limit: dynalite (which enforces 400 KB itself) accepts it.
    const near = { blob: 'x'.repeat(400 * 1024 - 1024 - 200) };
    await store.writeCategory(write(id, { data: near }));
    assert.equal((await store.getCategory('bright_uid', id, CAT))?.data.blob, near.blob);
  });

  test('50 concurrent first writes: at most 2 requests each plus one retry round for the losers', async () => {
    const id = uid();
    const counts = await requests.during(() =>
      Promise.all(Array.from({ length: 50 }, (_, i) => store.writeCategory(write(id, { data: { i }, now: new Date(Date.parse(T0) + i).toISOString() })))),
    );
    // Each writer: UpdateItem (fails, new) → PutItem; the 49 losers: one more UpdateItem.
    assert.ok((counts.PutItem ?? 0) <= 50, JSON.stringify(counts));
    assert.ok((counts.UpdateItem ?? 0) <= 100, JSON.stringify(counts));
    assert.equal(requests.total(), (counts.PutItem ?? 0) + (counts.UpdateItem ?? 0));
  });
});

describe('DynamoDB requests per HTTP API call', () => {
  let instance: DynamoDbInstance;
  let runtime: Runtime;
  let requests: RequestLog;
  let http: ReturnType<typeof client>;

  before(async () => {
    instance = await startDynamoDbInstance({ forceDynalite: true });
    requests = instance.requests as RequestLog;
    runtime = await startService(instance);
    http = client(runtime.url);
  });
  after(async () => {
    await runtime.close();
    await instance.teardown();
  });

  const body = (id: string, features: unknown) => ({
    meta: { source: 'prediction_service' },
    data: { entity_type: 'bright_uid', entity_value: id, category: CAT, features },
  });

  test('POST /items: 2 requests for a new record, 1 afterwards; GET: 1; POST /get/items: 1', async () => {
    const id = uid();
    assert.deepEqual(await requests.during(() => http.post('/api/v1/items', body(id, { a: 1 }))), { PutItem: 1, UpdateItem: 1 });
    assert.deepEqual(await requests.during(() => http.post('/api/v1/items', body(id, { a: 2 }))), { UpdateItem: 1 });
    assert.deepEqual(await requests.during(() => http.get(`/api/v1/get/item/${id}/${CAT}`)), { GetItem: 1 });
    const multi = { data: { entity_type: 'bright_uid', entity_value: id, feature_list: [`${CAT}:a`, `${CAT2}:*`] } };
    assert.deepEqual(await requests.during(() => http.post('/api/v1/get/items', multi)), { BatchGetItem: 1 });
  });

  test('POST /items with an item over 400 KB: 413, no request', async () => {
    let status = 0;
    const counts = await requests.during(async () => {
      status = (await http.post('/api/v1/items', body(uid(), { blob: 'z'.repeat(420 * 1024) }))).status;
    });
    assert.equal(status, 413);
    assert.deepEqual(counts, {});
  });

  test('GET /health: one DescribeTable per table', async () => {
    assert.deepEqual(await requests.during(() => http.get('/api/v1/health')), { DescribeTable: 2 });
  });
});
