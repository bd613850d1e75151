import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PayloadTooLargeError } from '../../src/errors.js';
import type { OutboxEvent } from '../../src/model.js';
import type { Runtime } from '../../src/server.js';
import type { FeatureStore, RecordKey, WriteRecordInput } from '../../src/store/ports.js';
import { openStore } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance, type DynamoDbServerKind } from '../support/dynamodb-backend.js';
import { outboxEvent } from '../support/fixtures.js';
import type { RequestLog } from '../support/request-log.js';
import { client, startService } from '../support/service.js';

/**
 * DynamoDB requests per operation, counted on the wire (dynalite's own count, a counting proxy
 * in front of moto; nothing is mocked). These numbers are the backend's promise, and the ones
 * docs/decisions/1-dynamodb-outbox.md reports:
 * - with events: a write to an existing record is 1 TransactWriteItems (record + outbox item);
 *   a record's first write 2; a delete 1 GetItem + 1 TransactWriteItems;
 * - without events: 1 UpdateItem; first write UpdateItem + PutItem; delete 1 DeleteItem;
 * - a read: 1 GetItem; n keys: ⌈n/100⌉ BatchGetItem;
 * - an item over 400 KB: 413 before any request.
 */
const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
const T0 = '2025-10-16T10:00:00.000Z';
let n = 0;
const uid = (): string => `req-${process.pid}-${++n}`;

function write(entityValue: string, extra: Partial<Omit<WriteRecordInput, 'key'>> & { category?: string } = {}): WriteRecordInput {
  const { category, ...rest } = extra;
  return { key: { entityType: 'bright_uid', entityValue, category: category ?? CAT }, data: { score: 1 }, computeId: null, now: T0, ...rest };
}

function event(entityValue: string): OutboxEvent {
  return outboxEvent(entityValue, { features: ['score'] });
}

function deleteEvent(deleted: { entityValue: string }): OutboxEvent {
  return outboxEvent(deleted.entityValue, { features: ['score'] });
}

async function withStore(server: DynamoDbServerKind, fn: (store: FeatureStore, requests: RequestLog, instance: DynamoDbInstance) => Promise<void>): Promise<void> {
  const instance = await startDynamoDbInstance({ server });
  const store = await openStore(instance);
  try {
    await fn(store, instance.requests, instance);
  } finally {
    await store.close();
    await instance.teardown();
  }
}

describe('DynamoDB requests per store call, with events (moto)', () => {
  let instance: DynamoDbInstance;
  let store: FeatureStore;
  let requests: RequestLog;

  before(async () => {
    instance = await startDynamoDbInstance({ server: 'moto' });
    requests = instance.requests;
    store = await openStore(instance);
  });
  after(async () => {
    await store.close();
    await instance.teardown();
  });

  test('first write: one cancelled transaction (the record is new), then one with the put', async () => {
    const id = uid();
    assert.deepEqual(await requests.during(() => store.writeRecord(write(id, { event: event(id) }))), { TransactWriteItems: 2 });
  });

  test('every later write: exactly one TransactWriteItems, also with an event time', async () => {
    const id = uid();
    await store.writeRecord(write(id, { event: event(id) }));
    assert.deepEqual(await requests.during(() => store.writeRecord(write(id, { event: event(id), data: { score: 2 } }))), { TransactWriteItems: 1 });
    assert.deepEqual(await requests.during(() => store.writeRecord(write(id, { event: event(id), eventTime: T0 }))), { TransactWriteItems: 1 });
  });

  test('a stale write: one cancelled transaction, nothing else', async () => {
    const id = uid();
    await store.writeRecord(write(id, { event: event(id), eventTime: '2025-10-16T11:00:00.000Z' }));
    const { result, counts } = await requests.counting(() => store.writeRecord(write(id, { event: event(id), eventTime: T0 })));
    assert.equal(result.outcome, 'stale');
    assert.deepEqual(counts, { TransactWriteItems: 1 });
  });

  test("a write to a record in the old service's format: one TransactWriteItems", async () => {
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
    assert.deepEqual(await requests.during(() => store.writeRecord(write(id, { event: event(id) }))), { TransactWriteItems: 1 });
  });

  test('a delete: one consistent GetItem and one TransactWriteItems; of a missing record, the GetItem only', async () => {
    const id = uid();
    await store.writeRecord(write(id, { event: event(id) }));
    const key: RecordKey = { entityType: 'bright_uid', entityValue: id, category: CAT };
    assert.deepEqual(await requests.during(() => store.deleteRecord({ key, now: T0, event: deleteEvent })), { GetItem: 1, TransactWriteItems: 1 });
    assert.deepEqual(await requests.during(() => store.deleteRecord({ key, now: T0, event: deleteEvent })), { GetItem: 1 });
  });
});

describe('DynamoDB requests per store call, without events', () => {
  for (const server of ['dynalite', 'moto'] as const) {
    test(`${server}: first write UpdateItem + PutItem, then one UpdateItem; delete one DeleteItem`, async () => {
      await withStore(server, async (store, requests) => {
        const id = uid();
        assert.deepEqual(await requests.during(() => store.writeRecord(write(id))), { PutItem: 1, UpdateItem: 1 });
        assert.deepEqual(await requests.during(() => store.writeRecord(write(id, { data: { score: 2 } }))), { UpdateItem: 1 });
        const key: RecordKey = { entityType: 'bright_uid', entityValue: id, category: CAT };
        // moto keeps versions (VERSIONS_KEPT defaults to 3): the record's versions item goes after it.
        assert.deepEqual(await requests.during(() => store.deleteRecord({ key, now: T0 })), { DeleteItem: server === 'moto' ? 2 : 1 });
      });
    });
  }

  test('reads: one GetItem for one key, hit or miss; one BatchGetItem per 100 distinct keys', async () => {
    await withStore('dynalite', async (store, requests) => {
      const id = uid();
      await store.writeRecord(write(id));
      await store.writeRecord(write(id, { category: CAT2 }));
      const key = (entityValue: string, category = CAT): RecordKey => ({ entityType: 'bright_uid', entityValue, category });
      assert.deepEqual(await requests.during(() => store.getRecords([key(id)])), { GetItem: 1 });
      assert.deepEqual(await requests.during(() => store.getRecords([key(uid())])), { GetItem: 1 });
      let found: unknown[] = [];
      const two = await requests.during(async () => {
        found = await store.getRecords([key(id), key(id, CAT2), key(id)]);
      });
      assert.equal(found.filter((r) => r !== undefined).length, 3);
      assert.deepEqual(two, { BatchGetItem: 1 });
      const keys = Array.from({ length: 250 }, (_, i) => key(`${id}-${i}`));
      assert.deepEqual(await requests.during(() => store.getRecords(keys)), { BatchGetItem: 3 });
    });
  });

  test('an item over 400 KB is refused with 413 before any request; one just under is stored', async () => {
    await withStore('dynalite', async (store, requests) => {
      const id = uid();
      const counts = await requests.during(async () => {
        await assert.rejects(store.writeRecord(write(id, { data: { blob: 'x'.repeat(400 * 1024) } })), PayloadTooLargeError);
        await assert.rejects(
          store.writeRecord(write(id, { data: Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`f${i}`, 'y'.repeat(160)])) })),
          PayloadTooLargeError,
        );
      });
      assert.deepEqual(counts, {});
      // Just under the estimate's limit: dynalite (which enforces 400 KB itself) accepts it.
      const near = { blob: 'x'.repeat(400 * 1024 - 1024 - 200) };
      await store.writeRecord(write(id, { data: near }));
      const [record] = await store.getRecords([{ entityType: 'bright_uid', entityValue: id, category: CAT }]);
      assert.equal(record?.data.blob, near.blob);
    });
  });

  test('50 concurrent first writes: at most 2 requests each plus one more round for the losers', async () => {
    await withStore('dynalite', async (store, requests) => {
      const id = uid();
      const counts = await requests.during(() =>
        Promise.all(Array.from({ length: 50 }, (_, i) => store.writeRecord(write(id, { data: { i }, now: new Date(Date.parse(T0) + i).toISOString() })))),
      );
      assert.ok((counts.PutItem ?? 0) <= 50, JSON.stringify(counts));
      assert.ok((counts.UpdateItem ?? 0) <= 100, JSON.stringify(counts));
      assert.equal(requests.total(), (counts.PutItem ?? 0) + (counts.UpdateItem ?? 0));
    });
  });
});

describe('DynamoDB requests per HTTP API call (events off, dynalite)', () => {
  let instance: DynamoDbInstance;
  let runtime: Runtime;
  let requests: RequestLog;
  let http: ReturnType<typeof client>;

  before(async () => {
    instance = await startDynamoDbInstance({ server: 'dynalite' });
    requests = instance.requests;
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
    const multi = { meta: { source: 'prediction_service' }, data: { entity_type: 'bright_uid', entity_value: id, feature_list: [`${CAT}:a`, `${CAT2}:*`] } };
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

  test('GET /health: one DescribeTable per table and one for the outbox table', async () => {
    assert.deepEqual(await requests.during(() => http.get('/api/v1/health')), { DescribeTable: 3 });
  });
});
