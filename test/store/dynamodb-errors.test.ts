import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  FeatureStoreError,
  StoreThrottledError,
  StoreUnavailableError,
  TableMissingError,
} from '../../src/errors.js';
import { translateError } from '../../src/store/dynamodb/errors.js';
import type { FeatureStore } from '../../src/store/ports.js';
import { getMany, getOne, writeInput } from '../support/store-calls.js';
import { openStore } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';
import { client, startService } from '../support/service.js';

/**
 * Infrastructure failures become typed errors (503 with Retry-After), decided by the SDK error's
 * name, never its text, and never a 404. Failures that dynalite cannot produce (throttling,
 * access denied, timeouts, unprocessed keys) come from small HTTP servers speaking the DynamoDB
 * wire protocol in front of, or instead of, dynalite, so the real SDK parses, retries and names
 * them.
 */
const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }));
}

describe('DynamoDB errors', () => {
  describe('a missing table', () => {
    let instance: DynamoDbInstance;
    let store: FeatureStore;
    const env = { TABLE_NAME_ACCOUNT_PID: 'no_such_table' };

    before(async () => {
      instance = await startDynamoDbInstance({ server: 'dynalite' });
      store = await openStore(instance, env);
    });
    after(async () => {
      await store.close();
      await instance.teardown();
    });

    test('reads and writes reject with TableMissingError naming the table, never "not found"', async () => {
      const named = (err: unknown): boolean => err instanceof TableMissingError && err.message.includes("'no_such_table'");
      await assert.rejects(getOne(store, 'account_pid', 'a-1', CAT), named);
      await assert.rejects(getMany(store, 'account_pid', 'a-1', [CAT, CAT2]), named);
      const write = { entityType: 'account_pid', entityValue: 'a-1', category: CAT, data: { x: 1 }, computeId: null, now: '2025-10-16T10:00:00.000Z' };
      await assert.rejects(store.writeRecord(writeInput(write)), named);
    });

    test('health is not ok and lists only the tables that exist', async () => {
      const health = await store.health();
      assert.equal(health.ok, false);
      assert.deepEqual(health.tablesAvailable, [instance.tables.bright_uid]);
      assert.match(health.error ?? '', /no_such_table/);
    });

    test('over HTTP: 503 with Retry-After and a detail naming the table; health 503', async () => {
      const runtime = await startService(instance, { env });
      try {
        const http = client(runtime.url);
        const read = await http.get(`/api/v1/get/item/a-1/${CAT}?entity_type=account_pid`);
        assert.equal(read.status, 503);
        assert.equal(read.text, `{"detail":"Feature store table 'no_such_table' does not exist","code":"STORE_TABLE_MISSING"}`);
        assert.ok(Number(read.headers.get('retry-after')) > 0, `Number(read.headers.get('retry-after')) > 0`);
        const health = await http.get('/api/v1/health');
        assert.equal(health.status, 503);
        assert.deepEqual((health.json as { tables_available: string[] }).tables_available, [instance.tables.bright_uid]);
        const user = await http.get(`/api/v1/get/item/u-1/${CAT}`);
        assert.equal(user.status, 404, 'the other entity type still works');
      } finally {
        await runtime.close();
      }
    });
  });

  describe('an unreachable endpoint', () => {
    test('store calls reject with StoreUnavailableError; HTTP answers a generic 503', async () => {
      const { url, server } = await listen(() => undefined);
      await close(server); // nothing listens there any more
      const instance = await startDynamoDbInstance({ server: 'dynalite' });
      const env = { DYNAMODB_ENDPOINT: url, DYNAMODB_MAX_ATTEMPTS: '1' };
      const store = await openStore(instance, env);
      const runtime = await startService(instance, { env });
      try {
        await assert.rejects(getOne(store, 'bright_uid', 'u', CAT), StoreUnavailableError);
        assert.equal((await store.health()).ok, false);
        const http = client(runtime.url);
        const read = await http.get(`/api/v1/get/item/u/${CAT}`);
        assert.equal(read.status, 503);
        assert.equal(read.text, '{"detail":"Feature store is temporarily unavailable","code":"STORE_UNAVAILABLE"}');
        assert.equal(read.headers.get('retry-after'), '1');
        const write = await http.post('/api/v1/items', {
          meta: { source: 'prediction_service' },
          data: { entity_type: 'bright_uid', entity_value: 'u', category: CAT, features: { a: 1 } },
        });
        assert.equal(write.status, 503);
        assert.doesNotMatch(write.text, /ECONNREFUSED|127\.0\.0\.1/);
      } finally {
        await runtime.close();
        await store.close();
        await instance.teardown();
      }
    });
  });

  describe('errors answered by the service', () => {
    let fault: { url: string; server: Server };
    let attempts = 0;
    let answer: { status: number; type: string } = { status: 400, type: 'ThrottlingException' };

    before(async () => {
      fault = await listen((req, res) => {
        attempts++;
        void readBody(req).then(() => sendError(res, answer.status, answer.type, 'table user_feature_store not found, aws says'));
      });
    });
    after(() => close(fault.server));

    const cases: { status: number; type: string; expected: new (...args: never[]) => FeatureStoreError }[] = [
      { status: 400, type: 'ProvisionedThroughputExceededException', expected: StoreThrottledError },
      { status: 400, type: 'ThrottlingException', expected: StoreThrottledError },
      { status: 400, type: 'RequestLimitExceeded', expected: StoreThrottledError },
      { status: 400, type: 'AccessDeniedException', expected: StoreUnavailableError },
      { status: 400, type: 'UnrecognizedClientException', expected: StoreUnavailableError },
      { status: 400, type: 'ResourceNotFoundException', expected: TableMissingError },
      { status: 500, type: 'InternalServerError', expected: StoreUnavailableError },
    ];
    for (const c of cases) {
      test(`${c.type} → ${c.expected.name}`, async () => {
        const instance = await startDynamoDbInstance({ server: 'dynalite' });
        const store = await openStore(instance, { DYNAMODB_ENDPOINT: fault.url, DYNAMODB_MAX_ATTEMPTS: '2' });
        try {
          answer = c;
          attempts = 0;
          await assert.rejects(getOne(store, 'bright_uid', 'u', CAT), (err: unknown) => {
            assert.ok(err instanceof c.expected, `${String(err)}`);
            assert.equal((err as Error & { cause?: Error }).cause?.name, c.type, 'the SDK error is kept as the cause for the log');
            if (c.expected === StoreUnavailableError) assert.equal((err as Error).message, 'Feature store is temporarily unavailable');
            return true;
          });
          const retried = c.expected === StoreThrottledError || c.status >= 500;
          assert.equal(attempts, retried ? 2 : 1, 'the SDK retries throttling and server errors, up to DYNAMODB_MAX_ATTEMPTS');
        } finally {
          await store.close();
          await instance.teardown();
        }
      });
    }

    test('a ValidationException is not infrastructure: it stays an SDK error (a 500, logged)', async () => {
      const instance = await startDynamoDbInstance({ server: 'dynalite' });
      const store = await openStore(instance, { DYNAMODB_ENDPOINT: fault.url });
      try {
        answer = { status: 400, type: 'ValidationException' };
        await assert.rejects(getOne(store, 'bright_uid', 'u', CAT), (err: unknown) => {
          assert.ok(!(err instanceof FeatureStoreError), '!(err instanceof FeatureStoreError)');
          assert.equal((err as Error).name, 'ValidationException');
          return true;
        });
      } finally {
        await store.close();
        await instance.teardown();
      }
    });
  });

  test('a request that gets no answer times out into StoreUnavailableError', async () => {
    const silent = await listen(() => undefined);
    const instance = await startDynamoDbInstance({ server: 'dynalite' });
    const store = await openStore(instance, { DYNAMODB_ENDPOINT: silent.url, DYNAMODB_TIMEOUT_MS: '200', DYNAMODB_MAX_ATTEMPTS: '1' });
    try {
      const started = Date.now();
      await assert.rejects(getOne(store, 'bright_uid', 'u', CAT), StoreUnavailableError);
      assert.ok(Date.now() - started < 2000, 'Date.now() - started < 2000');
    } finally {
      await store.close();
      await instance.teardown();
      await close(silent.server);
    }
  });

  describe('BatchGetItem with unprocessed keys', () => {
    let instance: DynamoDbInstance;
    let proxy: { url: string; server: Server };
    let refuseBatches = 0;
    let batchCalls = 0;

    before(async () => {
      instance = await startDynamoDbInstance({ server: 'dynalite' });
      // Forwards to dynalite, but answers the next `refuseBatches` BatchGetItem calls with every
      // key unprocessed, as DynamoDB does under load or past 16 MB.
      proxy = await listen((req, res) => {
        void (async () => {
          const body = await readBody(req);
          const target = String(req.headers['x-amz-target'] ?? '');
          if (target.endsWith('.BatchGetItem')) {
            batchCalls++;
            if (refuseBatches > 0) {
              refuseBatches--;
              const { RequestItems } = JSON.parse(body) as { RequestItems: unknown };
              res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
              res.end(JSON.stringify({ Responses: {}, UnprocessedKeys: RequestItems }));
              return;
            }
          }
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) {
            if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
          }
          const upstream = await fetch(instance.endpoint, { method: 'POST', headers, body });
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          res.end(await upstream.text());
        })();
      });
    });
    after(async () => {
      await close(proxy.server);
      await instance.teardown();
    });

    test('are retried with backoff until answered', async () => {
      const store = await openStore(instance, { DYNAMODB_ENDPOINT: proxy.url });
      try {
        const write = { entityType: 'bright_uid', entityValue: 'u-batch', data: { a: 1 }, computeId: null, now: '2025-10-16T10:00:00.000Z' };
        await store.writeRecord(writeInput({ ...write, category: CAT }));
        await store.writeRecord(writeInput({ ...write, category: CAT2 }));
        refuseBatches = 3;
        batchCalls = 0;
        const records = await getMany(store, 'bright_uid', 'u-batch', [CAT, CAT2]);
        assert.deepEqual(records.map((r) => r.category).sort(), [CAT, CAT2]);
        assert.equal(batchCalls, 4);
      } finally {
        await store.close();
      }
    });

    test('give up after a bounded number of attempts with StoreThrottledError (503)', async () => {
      const store = await openStore(instance, { DYNAMODB_ENDPOINT: proxy.url });
      try {
        refuseBatches = 1000;
        batchCalls = 0;
        await assert.rejects(getMany(store, 'bright_uid', 'u-batch', [CAT, CAT2]), StoreThrottledError);
        assert.equal(batchCalls, 8);
      } finally {
        refuseBatches = 0;
        await store.close();
      }
    });
  });

  test('mapping looks at the error name only, never the message', () => {
    const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });
    assert.ok(translateError(named('ResourceNotFoundException', 'throttled by aws'), 't1') instanceof TableMissingError, `translateError(named('ResourceNotFoundException', 'throttled by aws'), 't1') instanceof TableMissingError`);
    assert.ok(translateError(named('ThrottlingException', 'table not found'), 't1') instanceof StoreThrottledError, `translateError(named('ThrottlingException', 'table not found'), 't1') instanceof StoreThrottledError`);
    const other = named('ValidationException', 'aws is unavailable, throttled, access denied');
    assert.equal(translateError(other, 't1'), other);
    const network = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    assert.ok(translateError(network, 't1') instanceof StoreUnavailableError, `translateError(network, 't1') instanceof StoreUnavailableError`);
  });
});
