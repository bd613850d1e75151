import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

describe('configuration', () => {
  test('defaults match the contract', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8015);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.store, 'sqlite');
    assert.equal(c.sqlitePath, './data/features.db');
    assert.deepEqual(c.entityTables, { bright_uid: 'user_feature_store', account_pid: 'account_feature_store' });
    assert.deepEqual(c.categories, ['d0_unauth_features', 'ncr_unauth_features']);
    assert.deepEqual(c.writeSources, ['prediction_service']);
    assert.equal(c.batchMaxEntities, 1000);
    assert.equal(c.kafka, undefined);
    assert.equal(c.logLevel, 'info');
    assert.deepEqual(c.http, {
      headersTimeoutMs: 10000,
      bodyTimeoutMs: 20000,
      requestTimeoutMs: 30000,
      keepAliveTimeoutMs: 72000,
      maxConnections: 768,
      maxEventLoopDelayMs: 1000,
      rateLimitPerSecond: 0,
    });
    assert.deepEqual(c.corsOrigins, []);
    assert.deepEqual(c.lineage, { computeIdPattern: undefined, computeIdRequired: false, computeHistorySize: 10 });
    assert.deepEqual(c.outbox, { batchSize: 500, pollIntervalMs: 200, leaseMs: 30000, maxLingerMs: 100 });
    assert.ok(Object.isFrozen(c), 'Object.isFrozen(c)');
  });

  test("the relay's settings are read and bounded", () => {
    const c = loadConfig({ OUTBOX_BATCH_SIZE: '200', OUTBOX_POLL_MS: '50', OUTBOX_LEASE_MS: '5000', OUTBOX_MAX_LINGER_MS: '0' });
    assert.deepEqual(c.outbox, { batchSize: 200, pollIntervalMs: 50, leaseMs: 5000, maxLingerMs: 0 });
    assert.throws(() => loadConfig({ OUTBOX_MAX_LINGER_MS: '-1' }), ConfigError);
    assert.throws(() => loadConfig({ OUTBOX_MAX_LINGER_MS: 'soon' }), ConfigError);
  });

  test('lists, tables, Kafka settings and the DynamoDB endpoint alias are read', () => {
    const c = loadConfig({
      CATEGORY_WHITELIST: ' a_features, b_features ,a_features',
      WRITE_SOURCES: 'job_a,job_b',
      ENTITY_TYPES: 'bright_uid,device_id',
      TABLE_NAME_BRIGHT_UID: 'users_v2',
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      TOPIC_NAME: 'events',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    });
    assert.deepEqual(c.categories, ['a_features', 'b_features']);
    assert.deepEqual(c.writeSources, ['job_a', 'job_b']);
    assert.deepEqual(c.entityTables, { bright_uid: 'users_v2', device_id: 'device_id_feature_store' });
    assert.deepEqual(c.kafka?.brokers, ['k1:9092', 'k2:9093']);
    assert.equal(c.kafka?.topic, 'events');
    assert.equal(c.kafka?.sasl?.mechanism, 'scram-sha-512');
    assert.equal(c.dynamodb.endpoint, 'http://127.0.0.1:8000');
  });

  test('CATEGORY_TTL gives milliseconds per category in every unit; unlisted categories have none', () => {
    const c = loadConfig({ CATEGORY_WHITELIST: 'a,b,c,d,e', CATEGORY_TTL: 'a=30s, b=15m,c=12h,d=7d' });
    assert.deepEqual(c.categoryTtlMs, { a: 30_000, b: 900_000, c: 43_200_000, d: 604_800_000 });
    assert.deepEqual(loadConfig({}).categoryTtlMs, {});
    assert.deepEqual(loadConfig({}).ttl, { sweepIntervalMs: 60_000, sweepBatch: 500 });
  });

  test('StatsD is off unless STATSD_HOST is set; port and prefix default as in the old service', () => {
    assert.equal(loadConfig({}).statsd, undefined);
    assert.deepEqual(loadConfig({ STATSD_HOST: 'statsd.local' }).statsd, { host: 'statsd.local', port: 8125, prefix: 'feature_store' });
  });

  test('bad values stop start-up with a message naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: 'eighty' }, /^PORT/],
      [{ PORT: '70000' }, /^PORT/],
      [{ STORE: 'mongo' }, /^STORE/],
      [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL/],
      [{ KAFKA_BROKERS: 'no-port' }, /^KAFKA_BROKERS/],
      [{ KAFKA_BROKERS: 'k:1', KAFKA_SASL_MECHANISM: 'plain' }, /KAFKA_SASL_USERNAME/],
      [{ DYNAMODB_ENDPOINT: 'localhost:8000' }, /^DYNAMODB_ENDPOINT/],
      [{ CATEGORY_WHITELIST: ' , ' }, /^CATEGORY_WHITELIST/],
      [{ CATEGORY_WHITELIST: 'a:b' }, /^CATEGORY_WHITELIST/],
      [{ ENTITY_TYPES: 'category' }, /^ENTITY_TYPES/],
      [{ ENTITY_TYPES: 'bad-name' }, /^ENTITY_TYPES/],
      [{ TABLE_NAME_BRIGHT_UID: 'account_feature_store' }, /^TABLE_NAME_/],
      [{ DYNAMODB_CONSISTENT_READ: 'maybe' }, /^DYNAMODB_CONSISTENT_READ/],
      [{ SQLITE_SYNCHRONOUS: 'off' }, /^SQLITE_SYNCHRONOUS/],
      [{ CATEGORY_TTL: 'd0_unauth_features=7' }, /^CATEGORY_TTL/],
      [{ CATEGORY_TTL: 'd0_unauth_features=7w' }, /^CATEGORY_TTL/],
      [{ CATEGORY_TTL: 'd0_unauth_features=0s' }, /^CATEGORY_TTL/],
      [{ CATEGORY_TTL: 'd0_unauth_features=3651d' }, /^CATEGORY_TTL/],
      [{ CATEGORY_TTL: 'unknown_features=1d' }, /^CATEGORY_TTL.*CATEGORY_WHITELIST/],
      [{ CATEGORY_TTL: 'd0_unauth_features=1d,d0_unauth_features=2d' }, /^CATEGORY_TTL.*twice/],
      [{ TTL_SWEEP_BATCH: '0' }, /^TTL_SWEEP_BATCH/],
      [{ HEADERS_TIMEOUT_MS: '50' }, /^HEADERS_TIMEOUT_MS/],
      [{ HEADERS_TIMEOUT_MS: '30000' }, /^HEADERS_TIMEOUT_MS must not be larger than BODY_TIMEOUT_MS/],
      [{ BODY_TIMEOUT_MS: '40000' }, /^BODY_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS/],
      [{ MAX_CONNECTIONS: '0' }, /^MAX_CONNECTIONS/],
      [{ CORS_ORIGINS: '*' }, /^CORS_ORIGINS/],
      [{ CORS_ORIGINS: 'https://app.example.com/' }, /^CORS_ORIGINS/],
      [{ BATCH_MAX_ENTITIES: '0' }, /^BATCH_MAX_ENTITIES/],
      [{ BATCH_MAX_ENTITIES: '10001' }, /^BATCH_MAX_ENTITIES/],
      [{ STATSD_HOST: 'localhost', STATSD_PORT: '0' }, /^STATSD_PORT/],
      [{ STATSD_HOST: 'localhost', STATSD_PREFIX: 'a,b' }, /^STATSD_PREFIX/],
      [{ COMPUTE_ID_PATTERN: 'spark-(' }, /^COMPUTE_ID_PATTERN is not a valid regular expression/],
      [{ COMPUTE_ID_PATTERN: '\\p{Nope}' }, /^COMPUTE_ID_PATTERN/],
      [{ COMPUTE_ID_REQUIRED: 'sometimes' }, /^COMPUTE_ID_REQUIRED/],
      [{ COMPUTE_HISTORY_SIZE: '101' }, /^COMPUTE_HISTORY_SIZE/],
      [{ COMPUTE_HISTORY_SIZE: '-1' }, /^COMPUTE_HISTORY_SIZE/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
    }
  });
});

describe('.env.example', () => {
  test('lists every variable the configuration reads, and its values load as the defaults', async () => {
    const { readFileSync } = await import('node:fs');
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const env: Record<string, string> = {};
    for (const line of example.split('\n')) {
      const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (m?.[1] !== undefined) env[m[1]] = m[2] ?? '';
    }
    const source = ['config.ts', 'config-sections.ts'].map((f) => readFileSync(new URL(`../src/${f}`, import.meta.url), 'utf8')).join('\n');
    const read = new Set([...source.matchAll(/\(env, '([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]));
    read.add('TABLE_NAME_BRIGHT_UID');
    read.add('TABLE_NAME_ACCOUNT_PID');
    for (const name of read) assert.ok(name !== undefined && name in env, `${name} is missing from .env.example`);
    assert.deepEqual(loadConfig(env), loadConfig({}));
  });
});
