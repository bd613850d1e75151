import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ConnectionPool } from '../../src/store/dynamodb/connection-pool.js';
import { DirectTransport } from '../../src/store/dynamodb/direct-transport.js';
import { loadSdkParts, type SdkHttpRequest } from '../../src/store/dynamodb/sdk-parts.js';

/**
 * The record path's transport (direct-transport.ts) against a small HTTP server that records
 * every request: the request is the one the SDK sends for the same command (target, content
 * type, body), its signature is the SDK signer's for that request, throttling is retried by the
 * client's retry strategy, credentials that expire are fetched again, and error responses are
 * the SDK's exceptions.
 */
interface Seen {
  headers: Record<string, string>;
  body: string;
  path: string;
}

type Answer = (seen: Seen, res: ServerResponse) => void;

const TABLE = 'user_feature_store';
const GET_INPUT = { TableName: TABLE, Key: { bright_uid: { S: 'u-1' }, category: { S: 'c' } }, ConsistentRead: false };

function ok(body: object): Answer {
  return (_seen, res) => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(body));
  };
}

function fail(status: number, type: string, extra: object = {}): Answer {
  return (_seen, res) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: type, ...extra }));
  };
}

describe('DynamoDB direct transport', () => {
  let server: Server;
  let url: string;
  let seen: Seen[] = [];
  let answers: Answer[] = [];
  const agents = { pool: new ConnectionPool(16, 15_000), timeoutMs: 2000 };

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        const s = { headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '' };
        seen.push(s);
        (answers.shift() ?? ok({}))(s, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    agents.pool.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen = [];
    answers = [];
  });

  const client = (extra: object = {}) =>
    new DynamoDBClient({ region: 'eu-west-1', endpoint: url, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, maxAttempts: 3, ...extra });

  test('sends the request the SDK sends for the same command, signed as the SDK signer signs it', async () => {
    const sdk = client();
    const transport = new DirectTransport(client(), agents);
    answers = [ok({ Item: { bright_uid: { S: 'u-1' }, n: { N: '1.5' } } }), ok({ Item: { bright_uid: { S: 'u-1' }, n: { N: '1.5' } } })];
    const viaSdk = await sdk.send(new GetItemCommand(GET_INPUT));
    const viaTransport = await transport.send('GetItem', GET_INPUT, TABLE, JSON.stringify(GET_INPUT));
    assert.deepEqual(viaTransport, { Item: { bright_uid: { S: 'u-1' }, n: { N: '1.5' } } }, 'the body as plain JSON, attribute values in wire form');
    assert.deepEqual(viaSdk.Item, { bright_uid: { S: 'u-1' }, n: { N: '1.5' } });
    const [a, b] = seen;
    assert.ok(a !== undefined && b !== undefined, 'both requests were recorded');
    assert.equal(b.path, a.path);
    for (const h of ['x-amz-target', 'content-type', 'host', 'content-length']) assert.equal(b.headers[h], a.headers[h], h);
    assert.deepEqual(JSON.parse(b.body), JSON.parse(a.body));
    const credential = (auth: string | undefined) => /Credential=([^,]+)/.exec(auth ?? '')?.[1];
    assert.equal(credential(b.headers.authorization), credential(a.headers.authorization), 'same key, date, region and service');

    // The same request, signed by the SDK's own signer at the transport's signing time.
    const { HttpRequest } = loadSdkParts();
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(b.headers.authorization ?? '')?.[1]?.split(';') ?? [];
    const headers: Record<string, string> = {};
    for (const h of signedHeaders) if (h !== 'x-amz-date') headers[h] = b.headers[h] ?? '';
    const request = new HttpRequest({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: (server.address() as AddressInfo).port, path: b.path, query: {}, headers, body: b.body });
    const amzDate = b.headers['x-amz-date'] ?? '';
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const signer = await (sdk.config.signer as unknown as (s?: object) => Promise<{ sign(r: SdkHttpRequest, o: object): Promise<SdkHttpRequest> }>)();
    const expected = await signer.sign(request, { signingDate, signingRegion: 'eu-west-1', signingService: 'dynamodb' });
    assert.equal(b.headers.authorization, expected.headers.authorization);
    sdk.destroy();
  });

  test('throttling is retried by the client retry strategy, up to its attempts', async () => {
    const transport = new DirectTransport(client(), agents);
    answers = [fail(400, 'ThrottlingException'), fail(400, 'ProvisionedThroughputExceededException'), ok({ Item: { k: { S: 'v' } } })];
    assert.deepEqual(await transport.send('GetItem', GET_INPUT, TABLE, JSON.stringify(GET_INPUT)), { Item: { k: { S: 'v' } } });
    assert.equal(seen.length, 3);

    seen = [];
    answers = [fail(400, 'ThrottlingException'), fail(400, 'ThrottlingException'), fail(400, 'ThrottlingException'), ok({})];
    await assert.rejects(transport.send('GetItem', GET_INPUT, TABLE, JSON.stringify(GET_INPUT)), (err: Error & { $metadata?: { attempts?: number; httpStatusCode?: number } }) => {
      assert.equal(err.name, 'ThrottlingException');
      assert.equal(err.$metadata?.httpStatusCode, 400);
      assert.equal(err.$metadata?.attempts, 3);
      return true;
    });
    assert.equal(seen.length, 3, 'maxAttempts 3');
  });

  test('a client error is not retried and arrives as the SDK exception, with its members', async () => {
    const stackTraceLimit = Error.stackTraceLimit;
    const transport = new DirectTransport(client(), agents);
    // Every kind of attribute value a record item holds, binaries included (the SDK decodes them).
    const item = { k: { S: 'old' }, n: { N: '1.5' }, b: { B: 'AAEC' }, z: { NULL: true }, m: { M: { t: { BOOL: true }, l: { L: [{ B: 'Aw==' }, { S: 'x' }] } } } };
    answers = [fail(400, 'ConditionalCheckFailedException', { Item: item })];
    const update = { TableName: TABLE, Key: GET_INPUT.Key, UpdateExpression: 'SET #a = :a', ExpressionAttributeNames: { '#a': 'a' }, ExpressionAttributeValues: { ':a': { S: 'x' } } };
    const sdkError = await client()
      .send(new UpdateItemCommand({ ...update, ConditionExpression: 'attribute_exists(k)' }))
      .catch((e: unknown) => e);
    answers = [fail(400, 'ConditionalCheckFailedException', { Item: item })];
    seen = [];
    await assert.rejects(transport.send('UpdateItem', update, TABLE, JSON.stringify(update)), (err: Error & { Item?: unknown; $fault?: string; $metadata?: { httpStatusCode?: number } }) => {
      const expected = sdkError as Error & { Item?: unknown; $fault?: string; $metadata?: { httpStatusCode?: number } };
      assert.equal(err.name, 'ConditionalCheckFailedException');
      assert.equal(err.constructor, expected.constructor, 'the same exception class as the SDK throws');
      assert.equal(err.message, expected.message);
      assert.deepEqual(err.Item, expected.Item, 'the same Item as the SDK decodes it');
      assert.ok(expected.Item !== undefined && (expected.Item as { b: { B: unknown } }).b.B instanceof Uint8Array, 'the SDK decodes a binary Item value to a Uint8Array');
      assert.equal(err.$fault, 'client');
      assert.equal(err.$metadata?.httpStatusCode, 400);
      assert.equal(err.$metadata?.httpStatusCode, expected.$metadata?.httpStatusCode);
      return true;
    });
    assert.equal(seen.length, 1);
    // The failure is built without a stack trace (condition-failure.ts); the process's limit is
    // left as it was.
    assert.equal(Error.stackTraceLimit, stackTraceLimit, 'Error.stackTraceLimit restored after the failed condition');
  });

  test('credentials that expire are fetched again, and the new ones sign the next request', async () => {
    let calls = 0;
    // Expiring within the SDK's refresh window, so every use fetches them again (a rotation).
    const credentials = async () => {
      calls++;
      return { accessKeyId: `AKID${calls}`, secretAccessKey: `secret${calls}`, expiration: new Date(Date.now() + 60_000) };
    };
    const transport = new DirectTransport(client({ credentials }), agents);
    await transport.send('GetItem', GET_INPUT, TABLE, JSON.stringify(GET_INPUT));
    await transport.send('GetItem', GET_INPUT, TABLE, JSON.stringify(GET_INPUT));
    const keys = seen.map((s) => /Credential=([^/]+)\//.exec(s.headers.authorization ?? '')?.[1]);
    assert.equal(keys.length, 2);
    assert.notEqual(keys[0], keys[1], `rotated credentials sign the later request (${keys.join(', ')})`);
    assert.match(keys[1] ?? '', /^AKID\d+$/);

    // Credentials that stay valid are fetched once.
    let stable = 0;
    const lasting = new DirectTransport(client({ credentials: async () => ({ accessKeyId: `AKIDS${++stable}`, secretAccessKey: 's', expiration: new Date(Date.now() + 3_600_000) }) }), agents);
    seen = [];
    for (let i = 0; i < 3; i++) await lasting.send('GetItem', GET_INPUT, TABLE, JSON.stringify(GET_INPUT));
    assert.equal(stable, 1);
    assert.ok(seen.every((s) => (s.headers.authorization ?? '').includes('Credential=AKIDS1/')), 'every request signed with the first credentials');
  });

  test('no answer within the time limit is a TimeoutError, retried as transient', async () => {
    const transport = new DirectTransport(client({ maxAttempts: 2 }), { ...agents, timeoutMs: 100 });
    answers = [() => undefined, () => undefined];
    await assert.rejects(transport.send('GetItem', GET_INPUT, TABLE, JSON.stringify(GET_INPUT)), (err: Error) => err.name === 'TimeoutError');
    assert.equal(seen.length, 2);
  });
  test('a write without an answer within the time limit is not sent again (it may have been applied)', async () => {
    const transport = new DirectTransport(client({ maxAttempts: 3 }), { ...agents, timeoutMs: 100 });
    answers = [() => undefined, () => undefined, () => undefined];
    const input = { TableName: TABLE, Key: GET_INPUT.Key, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { S: 'x' } } };
    await assert.rejects(transport.send('UpdateItem', input, TABLE, JSON.stringify(input)), (err: Error & { $metadata?: { attempts?: number } }) => err.name === 'TimeoutError' && err.$metadata?.attempts === 1);
    assert.equal(seen.length, 1);
  });

  test('a write that never reached the server (connection refused) is retried', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const transport = new DirectTransport(client({ maxAttempts: 2, endpoint: `http://127.0.0.1:${port}` }), agents);
    const input = { TableName: TABLE, Key: GET_INPUT.Key, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { S: 'x' } } };
    await assert.rejects(transport.send('UpdateItem', input, TABLE, JSON.stringify(input)), (err: Error & { code?: string; $metadata?: { attempts?: number } }) => err.code === 'ECONNREFUSED' && err.$metadata?.attempts === 2);
  });
});
