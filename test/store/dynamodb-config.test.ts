import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/create-store.js';
import { TEST_ENV } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';

/** DynamoDB settings: parsed once, validated, and checked again where only DynamoDB knows the limit. */
describe('DynamoDB configuration', () => {
  test('defaults and overrides of the client settings', () => {
    const defaults = loadConfig({}).dynamodb;
    assert.deepEqual(
      { ...defaults },
      { region: undefined, endpoint: undefined, consistentRead: false, createTables: false, maxAttempts: 3, timeoutMs: 3000, maxSockets: 128, outboxTable: 'feature_store_outbox', versionsTable: 'feature_store_versions', writeOrderCacheMb: 8 },
    );
    const set = loadConfig({
      AWS_REGION: 'eu-west-1',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      DYNAMODB_CONSISTENT_READ: 'true',
      DYNAMODB_CREATE_TABLES: 'yes',
      DYNAMODB_MAX_ATTEMPTS: '5',
      DYNAMODB_TIMEOUT_MS: '250',
      DYNAMODB_MAX_SOCKETS: '16',
      DYNAMODB_OUTBOX_TABLE: 'events_outbox',
      DYNAMODB_VERSIONS_TABLE: 'versions',
      DYNAMODB_WRITE_ORDER_CACHE_MB: '0',
    }).dynamodb;
    assert.deepEqual(
      { ...set },
      { region: 'eu-west-1', endpoint: 'http://127.0.0.1:8000', consistentRead: true, createTables: true, maxAttempts: 5, timeoutMs: 250, maxSockets: 16, outboxTable: 'events_outbox', versionsTable: 'versions', writeOrderCacheMb: 0 },
    );
  });

  test('bad values stop with a message naming the variable', () => {
    for (const [name, value] of [
      ['DYNAMODB_MAX_ATTEMPTS', '0'],
      ['DYNAMODB_MAX_ATTEMPTS', 'three'],
      ['DYNAMODB_TIMEOUT_MS', '5'],
      ['DYNAMODB_MAX_SOCKETS', '-1'],
      ['DYNAMODB_WRITE_ORDER_CACHE_MB', '-1'],
      ['DYNAMODB_WRITE_ORDER_CACHE_MB', '2048'],
      ['DYNAMODB_CONSISTENT_READ', 'maybe'],
      ['DYNAMODB_ENDPOINT', 'localhost:8000'],
    ] as const) {
      assert.throws(() => loadConfig({ [name]: value }), (err: unknown) => err instanceof ConfigError && err.message.startsWith(name), `${name}=${value}`);
    }
  });

  describe('checked when the store is created', () => {
    let instance: DynamoDbInstance;
    before(async () => {
      instance = await startDynamoDbInstance({ server: 'dynalite' });
    });
    after(() => instance.teardown());

    const open = (env: Record<string, string>) => createStore(loadConfig({ ...TEST_ENV, ...instance.env, ...env }), createLogger('silent'));

    test('the outbox table named like a record table', async () => {
      await assert.rejects(
        open({ DYNAMODB_OUTBOX_TABLE: instance.tables.bright_uid ?? '' }),
        (err: unknown) => err instanceof ConfigError && err.message.startsWith('DYNAMODB_OUTBOX_TABLE'),
      );
    });

    test("a category longer than DynamoDB's 1,024-byte sort key", async () => {
      await assert.rejects(open({ CATEGORY_WHITELIST: `c${'x'.repeat(1024)}` }), (err: unknown) => err instanceof ConfigError && err.message.startsWith('CATEGORY_WHITELIST'));
    });

    test('no region anywhere', async () => {
      const saved = { region: process.env.AWS_REGION, fallback: process.env.AWS_DEFAULT_REGION, file: process.env.AWS_CONFIG_FILE };
      delete process.env.AWS_REGION;
      delete process.env.AWS_DEFAULT_REGION;
      process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
      try {
        const env = { ...TEST_ENV, ...instance.env };
        delete env.AWS_REGION;
        await assert.rejects(createStore(loadConfig(env), createLogger('silent')), (err: unknown) => err instanceof ConfigError && /AWS_REGION/.test(err.message));
      } finally {
        for (const [key, value] of [['AWS_REGION', saved.region], ['AWS_DEFAULT_REGION', saved.fallback], ['AWS_CONFIG_FILE', saved.file]] as const) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      }
    });
  });
});
