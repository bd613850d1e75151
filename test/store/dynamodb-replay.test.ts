import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StoreUnavailableError } from '../../src/errors.js';
import type { OutboxEvent } from '../../src/model.js';
import type { FeatureStore, MergeRecordInput, RecordKey, WriteRecordInput } from '../../src/store/ports.js';
import { startWithholdingProxy, type Withholding, type WithholdingProxy } from '../support/answer-withholding-proxy.js';
import { openStore } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance, type DynamoDbServerKind } from '../support/dynamodb-backend.js';
import { eventId, outboxEvent } from '../support/fixtures.js';

/**
 * A record write that DynamoDB applied but whose answer never reached the service (too late, or
 * the connection broke) is not sent again: a replay would shift the compute history twice and
 * append its change event twice. A read in the same situation is retried. The server here is
 * real (moto with transactions, dynalite without); a TCP proxy between it and the store passes
 * every request through whole and keeps the chosen answers from the store.
 */
const CAT = 'd0_unauth_features';
const T0 = Date.parse('2025-10-16T10:00:00.000Z');
let n = 0;
const uid = (): string => `replay-${process.pid}-${++n}`;
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
const keyOf = (entityValue: string): RecordKey => ({ entityType: 'bright_uid', entityValue, category: CAT });

function write(entityValue: string, i: number, event?: OutboxEvent): WriteRecordInput {
  return { key: keyOf(entityValue), data: { i }, computeId: `job-${i}`, now: at(i), historySize: 5, ...(event === undefined ? {} : { event }) };
}

function merge(entityValue: string, i: number, event?: OutboxEvent): MergeRecordInput {
  return { key: keyOf(entityValue), set: { [`m${i}`]: i }, remove: [], computeId: `job-${i}`, now: at(i), historySize: 5, ...(event === undefined ? {} : { event }) };
}

function event(entityValue: string, i: number): OutboxEvent {
  return outboxEvent(entityValue, { id: eventId(1000 + n * 10 + i), timestamp: at(i), category: CAT, features: ['i'] });
}

const HOW: Withholding[] = ['never', 'reset'];

for (const server of ['moto', 'dynalite'] as DynamoDbServerKind[]) {
  describe(`DynamoDB writes are not replayed after a lost answer: ${server}`, () => {
    let instance: DynamoDbInstance;
    let proxy: WithholdingProxy;
    let store: FeatureStore;

    before(async () => {
      instance = await startDynamoDbInstance({ server });
      proxy = await startWithholdingProxy(instance.endpoint);
      // 2 s: long enough that an emulator under load answers the requests that are not withheld.
      store = await openStore(instance, { DYNAMODB_ENDPOINT: proxy.endpoint, DYNAMODB_TIMEOUT_MS: '2000', DYNAMODB_MAX_ATTEMPTS: '3' });
    });
    after(async () => {
      await store.close();
      await proxy.stop();
      await instance.teardown();
    });

    // A write's and a merge's update: applied once, whatever happened to its answer.
    const updates = [
      { name: 'an update', apply: (id: string) => store.writeRecord(write(id, 2)), data: { i: 2 } },
      { name: 'a merge', apply: (id: string) => store.mergeRecord(merge(id, 2)), data: { i: 1, m2: 2 } },
    ];
    for (const { name, apply, data } of updates) {
      for (const how of HOW) {
        test(`${name} applied without an answer (${how}) fails with 503 and is applied once`, async () => {
          const id = uid();
          await store.writeRecord(write(id, 1));
          proxy.withhold('UpdateItem', how);
          instance.requests.reset();
          const outcome = await apply(id).then(() => 'answered', (err: unknown) => err);
          await proxy.settled();
          const counts = instance.requests.counts();
          const history = await store.getComputeHistory(keyOf(id), 5);
          assert.deepEqual(
            history?.map((h) => h.compute_id),
            ['job-2', 'job-1'],
          );
          assert.equal(counts.UpdateItem, 1, JSON.stringify(counts));
          assert.ok(outcome instanceof StoreUnavailableError, String(outcome));
          const [record] = await store.getRecords([keyOf(id)]);
          assert.deepEqual(record?.data, data);
        });
      }
    }

    test('a put applied without an answer fails with 503; the record is the put alone', async () => {
      const id = uid();
      proxy.withhold('PutItem', 'never');
      const outcome = await store.writeRecord(write(id, 1)).then(() => 'answered', (err: unknown) => err);
      await proxy.settled();
      const history = await store.getComputeHistory(keyOf(id), 5);
      assert.deepEqual(
        history?.map((h) => h.compute_id),
        ['job-1'],
      );
      assert.ok(outcome instanceof StoreUnavailableError, String(outcome));
    });

    for (const how of HOW) {
      test(`a delete applied without an answer (${how}) fails with 503, not as "no such record"`, async () => {
        const id = uid();
        await store.writeRecord(write(id, 1));
        proxy.withhold('DeleteItem', how);
        instance.requests.reset();
        const outcome = await store.deleteRecord({ key: keyOf(id), now: at(2) }).then(
          (deleted) => `answered ${JSON.stringify(deleted ?? null)}`,
          (err: unknown) => err,
        );
        await proxy.settled();
        const counts = instance.requests.counts();
        assert.equal(counts.DeleteItem, 1, JSON.stringify(counts));
        assert.ok(outcome instanceof StoreUnavailableError, String(outcome));
        const [record] = await store.getRecords([keyOf(id)]);
        assert.equal(record, undefined, 'the delete was applied');
      });
    }

    test('job statistics added without an answer fail with 503 and are counted once', async () => {
      const job = `job-${uid()}`;
      const counts = { computeId: job, writes: 2, firstWriteAt: at(1), lastWriteAt: at(2), categories: { [CAT]: 2 }, entityTypes: { bright_uid: 2 } };
      await store.computeJobs.add([counts]);
      // The ADD of the counts, not the conditional updates of the first and last write times.
      proxy.withhold('UpdateItem', 'never', 1, 'ADD ');
      const outcome = await store.computeJobs.add([counts]).then(() => 'answered', (err: unknown) => err);
      await proxy.settled();
      const stats = await store.computeJobs.get(job);
      assert.equal(stats?.writes, 4, JSON.stringify(stats));
      assert.deepEqual(stats?.categories, { [CAT]: 4 });
      assert.ok(outcome instanceof StoreUnavailableError, String(outcome));
    });

    test('a read without an answer is retried and answers', async () => {
      const id = uid();
      await store.writeRecord(write(id, 1));
      proxy.withhold('GetItem', 'never');
      const before = proxy.withheld();
      const [record] = await store.getRecords([keyOf(id)]);
      assert.equal(proxy.withheld(), before + 1, 'the first read was withheld');
      assert.deepEqual(record?.data, { i: 1 });
    });

    if (server === 'moto') {
      const transactions = [
        { name: 'a transaction (write and its event)', apply: (id: string, e: OutboxEvent) => store.writeRecord(write(id, 2, e)) },
        { name: 'a merge transaction (merge and its event)', apply: (id: string, e: OutboxEvent) => store.mergeRecord(merge(id, 2, e)) },
      ];
      for (const { name, apply } of transactions) {
        test(`${name} applied without an answer is applied once: one event`, async () => {
          const id = uid();
          await store.writeRecord(write(id, 1));
          proxy.withhold('TransactWriteItems', 'never');
          const e = event(id, 2);
          const outcome = await apply(id, e).then(() => 'answered', (err: unknown) => err);
          await proxy.settled();
          const claimed = await store.outbox.claim(`relay-${id}`, 100, 30_000);
          assert.deepEqual(
            claimed.filter((c) => c.key === e.key).map((c) => c.id),
            [e.id],
          );
          await store.outbox.complete(claimed.map((c) => c.id));
          const history = await store.getComputeHistory(keyOf(id), 5);
          assert.deepEqual(
            history?.map((h) => h.compute_id),
            ['job-2', 'job-1'],
          );
          assert.ok(outcome instanceof StoreUnavailableError, String(outcome));
        });
      }
    }
  });
}
