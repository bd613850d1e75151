import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DescribeTimeToLiveCommand, GetItemCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { WriteRecordInput } from '../../src/store/ports.js';
import { openStore } from '../support/backend.js';
import { cli } from '../support/cli-process.js';
import { startDynamoDbInstance, type DynamoDbInstance, type DynamoDbServerKind } from '../support/dynamodb-backend.js';

/**
 * DynamoDB expiry is the table's native TTL on the top-level `expires_at` (epoch seconds):
 * `tables create` turns it on when CATEGORY_TTL is set, and every write sets the attribute for
 * a category with a TTL and removes it otherwise. (The service hides expired records from reads
 * itself: test/http/ttl.test.ts.)
 */
describe('DynamoDB TTL: tables create (moto)', () => {
  let instance: DynamoDbInstance;
  before(async () => {
    instance = await startDynamoDbInstance({ createTables: false, env: { CATEGORY_TTL: 'd0_unauth_features=7d' } });
  });
  after(async () => {
    await instance.teardown();
  });

  test('turns TTL on for every record table and the versions table once, then reports it exists', async () => {
    const [user, account, outbox, versions] = [instance.tables.bright_uid, instance.tables.account_pid, instance.outboxTable, instance.versionsTable];
    const first = await cli(['tables', 'create'], instance.env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(
      first.stdout,
      `${user} (records): created; TTL on expires_at: enabled\n${account} (records): created; TTL on expires_at: enabled\n${outbox} (outbox): created\n` +
        `${versions} (versions): created; TTL on expires_at: enabled\n`,
    );
    const again = await cli(['tables', 'create'], instance.env);
    assert.equal(
      again.stdout,
      `${user} (records): exists; TTL on expires_at: exists\n${account} (records): exists; TTL on expires_at: exists\n${outbox} (outbox): exists\n` +
        `${versions} (versions): exists; TTL on expires_at: exists\n`,
    );
    const ttl = await instance.raw.send(new DescribeTimeToLiveCommand({ TableName: user }));
    assert.equal(ttl.TimeToLiveDescription?.TimeToLiveStatus, 'ENABLED');
    assert.equal(ttl.TimeToLiveDescription?.AttributeName, 'expires_at');
  });

  test('a table whose TTL is on another attribute is refused, naming both', async () => {
    const account = instance.tables.account_pid as string;
    await instance.raw.send(new UpdateTimeToLiveCommand({ TableName: account, TimeToLiveSpecification: { Enabled: false, AttributeName: 'expires_at' } }));
    await instance.raw.send(new UpdateTimeToLiveCommand({ TableName: account, TimeToLiveSpecification: { Enabled: true, AttributeName: 'purge_at' } }));
    const res = await cli(['tables', 'create'], instance.env);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, new RegExp(`'${account}' has TTL on 'purge_at'; CATEGORY_TTL needs it on 'expires_at'`));
  });
});

for (const server of ['moto', 'dynalite'] as DynamoDbServerKind[]) {
  describe(`DynamoDB TTL attribute on writes (${server})`, () => {
    let instance: DynamoDbInstance;
    before(async () => {
      instance = await startDynamoDbInstance({ server });
    });
    after(async () => {
      await instance.teardown();
    });

    test('set to the expiry in epoch seconds (rounded up) for a category with a TTL; removed by a write without one', async () => {
      const store = await openStore(instance);
      try {
        const key = { entityType: 'bright_uid', entityValue: 'ttl-1', category: 'd0_unauth_features' };
        const input = (now: string, expiresAt?: string): WriteRecordInput => ({ key, data: { a: 1 }, computeId: null, now, expiresAt });
        const item = async () =>
          (await instance.raw.send(new GetItemCommand({ TableName: instance.tables.bright_uid, Key: { bright_uid: { S: 'ttl-1' }, category: { S: 'd0_unauth_features' } }, ConsistentRead: true }))).Item;

        await store.writeRecord(input('2025-10-16T10:00:00.000Z', '2025-10-23T10:00:00.400Z')); // first write: a put
        assert.deepEqual((await item())?.expires_at, { N: String(Math.ceil(Date.parse('2025-10-23T10:00:00.400Z') / 1000)) });
        await store.writeRecord(input('2025-10-16T11:00:00.000Z', '2025-10-23T11:00:00.000Z')); // an update
        assert.deepEqual((await item())?.expires_at, { N: String(Date.parse('2025-10-23T11:00:00.000Z') / 1000) });
        await store.writeRecord(input('2025-10-16T12:00:00.000Z'));
        const last = await item();
        assert.equal(last?.expires_at, undefined);
        assert.deepEqual(Object.keys(last ?? {}).sort(), ['bright_uid', 'category', 'features'], "back to the old service's layout exactly");
      } finally {
        await store.close();
      }
    });
  });
}
