import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../src/config.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { createDynamoDbTables } from '../../src/store/dynamodb/index.js';
import type { FeatureStore } from '../../src/store/ports.js';
import { openStore, TEST_ENV } from '../support/backend.js';
import { cli } from '../support/cli-process.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';

/**
 * Table management: `feature-store tables create` (idempotent, reports per table),
 * `DYNAMODB_CREATE_TABLES=true` at start, and health checks that really describe the tables.
 * Record tables keep the old service's key schema, plus the `by_compute_id` index (added to an
 * existing table too); pending events live in the outbox table and its index.
 */
describe('DynamoDB tables', () => {
  let instance: DynamoDbInstance;

  before(async () => {
    instance = await startDynamoDbInstance({ createTables: false });
  });
  after(async () => {
    await instance.teardown();
  });

  test('`feature-store tables create` creates what is missing, then reports that it exists', async () => {
    const [user, account] = [instance.tables.bright_uid, instance.tables.account_pid];
    const first = await cli(['tables', 'create'], instance.env);
    assert.equal(first.code, 0, first.stderr);
    const outbox = instance.outboxTable;
    const versions = instance.versionsTable;
    assert.equal(first.stdout, `${user} (records): created\n${account} (records): created\n${outbox} (outbox): created\n${versions} (versions): created\n`);
    const again = await cli(['tables', 'create'], instance.env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `${user} (records): exists\n${account} (records): exists\n${outbox} (outbox): exists\n${versions} (versions): exists\n`);
    const described = await instance.raw.send(new DescribeTableCommand({ TableName: user }));
    assert.deepEqual(described.Table?.KeySchema, [
      { AttributeName: 'bright_uid', KeyType: 'HASH' },
      { AttributeName: 'category', KeyType: 'RANGE' },
    ]);
    assert.equal(described.Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
    const index = described.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'by_compute_id');
    assert.deepEqual(index?.KeySchema, [
      { AttributeName: 'lineage_compute_id', KeyType: 'HASH' },
      { AttributeName: 'category', KeyType: 'RANGE' },
    ]);
    assert.deepEqual(index?.Projection, { ProjectionType: 'INCLUDE', NonKeyAttributes: ['lineage_updated_at'] });
    const box = await instance.raw.send(new DescribeTableCommand({ TableName: outbox }));
    assert.deepEqual(box.Table?.KeySchema, [
      { AttributeName: 'entity_value', KeyType: 'HASH' },
      { AttributeName: 'record', KeyType: 'RANGE' },
    ]);
    assert.deepEqual(box.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort(), ['compute_jobs_by_last_write', 'outbox_pending']);
    const jobs = box.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'compute_jobs_by_last_write');
    assert.deepEqual(jobs?.KeySchema, [
      { AttributeName: 'job_list', KeyType: 'HASH' },
      { AttributeName: 'last_write_at', KeyType: 'RANGE' },
    ]);
    const kept = await instance.raw.send(new DescribeTableCommand({ TableName: versions }));
    assert.deepEqual(kept.Table?.KeySchema, [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  test('an unreachable endpoint makes the command fail with the cause', async () => {
    const res = await cli(['tables', 'create'], { ...instance.env, DYNAMODB_ENDPOINT: 'http://127.0.0.1:9', DYNAMODB_MAX_ATTEMPTS: '1' });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /temporarily unavailable.*ECONNREFUSED/);
  });

  test('a table with another key schema is refused, not used', async () => {
    const table = `wrong_keys_${process.pid}_${Date.now()}`;
    await instance.raw.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    await assert.rejects(
      createDynamoDbTables(loadConfig({ ...TEST_ENV, ...instance.env, TABLE_NAME_BRIGHT_UID: table })),
      new RegExp(`'${table}' has key \\(id, -\\); this service needs \\(bright_uid, category\\)`),
    );
  });

  test("an existing table of the old service keeps its keys and gets the by_compute_id index; with events on, health needs the outbox table", async () => {
    const table = `old_service_${process.pid}_${Date.now()}`;
    await instance.raw.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'bright_uid', AttributeType: 'S' },
          { AttributeName: 'category', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'bright_uid', KeyType: 'HASH' },
          { AttributeName: 'category', KeyType: 'RANGE' },
        ],
      }),
    );
    const outbox = `${table}_outbox`;
    const env = { ...instance.env, TABLE_NAME_BRIGHT_UID: table, DYNAMODB_OUTBOX_TABLE: outbox, KAFKA_BROKERS: '127.0.0.1:9092' };
    const store = await openStore(instance, env);
    try {
      const health = await store.health();
      assert.equal(health.ok, false, 'with events on, a missing outbox table is not healthy');
      assert.match(health.error ?? '', new RegExp(`${outbox}: table does not exist`));
      assert.ok(health.tablesAvailable.includes(table), 'health.tablesAvailable.includes(table)');
      // Until the index exists, the by-compute-id query says what to do (503, not a 500).
      await assert.rejects(
        store.findByComputeId({ entityType: 'bright_uid', computeId: 'job', limit: 10 }),
        (err: unknown) => err instanceof StoreUnavailableError && /no usable index 'by_compute_id'.*tables create/.test(err.message),
      );
      const res = await cli(['tables', 'create'], env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`^${table} \\(records\\): index added$`, 'm'));
      assert.match(res.stdout, new RegExp(`^${outbox} \\(outbox\\): created$`, 'm'));
      assert.equal((await store.health()).ok, true);
      const described = await instance.raw.send(new DescribeTableCommand({ TableName: table }));
      assert.deepEqual(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName), ['by_compute_id']);
      assert.deepEqual(await store.findByComputeId({ entityType: 'bright_uid', computeId: 'job', limit: 10 }), { records: [], more: false });
      const again = await cli(['tables', 'create'], env);
      assert.match(again.stdout, new RegExp(`^${table} \\(records\\): exists$`, 'm'), 'idempotent');
    } finally {
      await store.close();
    }
  });
});

describe('DYNAMODB_CREATE_TABLES=true', () => {
  let instance: DynamoDbInstance;
  let store: FeatureStore;

  before(async () => {
    instance = await startDynamoDbInstance({ createTables: false });
  });
  after(async () => {
    await store.close();
    await instance.teardown();
  });

  test('creates the missing tables when the store opens; without it health reports them missing', async () => {
    const without = await openStore(instance);
    const before = await without.health();
    await without.close();
    assert.equal(before.ok, false);
    assert.deepEqual(before.tablesAvailable, []);
    store = await openStore(instance, { DYNAMODB_CREATE_TABLES: 'true' });
    const health = await store.health();
    assert.equal(health.ok, true);
    assert.deepEqual([...health.tablesAvailable].sort(), Object.values(instance.tables).sort());
  });
});
