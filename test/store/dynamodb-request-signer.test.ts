import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { signHeaders, signingRoute, type Credentials, type SdkSigner } from '../../src/store/dynamodb/request-signer.js';
import { loadSdkParts, type SdkHttpRequest } from '../../src/store/dynamodb/sdk-parts.js';

/**
 * The record path's SigV4 (request-signer.ts) against the SDK signer's `sign` of the same request
 * at the same date: the same headers added and the same `Authorization`, with lasting and with
 * temporary credentials (the session token signed), across a day boundary (the key is the day's),
 * after the credentials change (the new ones' key), with endpoint headers whose names and values
 * need canonical form, and with a header the SDK never signs.
 */
interface FullSigner extends SdkSigner {
  sign(request: SdkHttpRequest, options: object): Promise<SdkHttpRequest>;
}

async function sdkSigner(credentials: () => Promise<Credentials>): Promise<FullSigner> {
  const client = new DynamoDBClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:1', credentials });
  const signer = await (client.config.signer as unknown as () => Promise<FullSigner>)();
  client.destroy();
  return signer;
}

const BODY = JSON.stringify({ TableName: 'user_feature_store', Key: { bright_uid: { S: 'ü-1' } } });

/** Our headers from `signer`'s route, and those of `reference` (by default the same signer; the SDK client's credentials are memoized, so changed credentials need a signer of their own). */
async function compare(signer: FullSigner, credentials: Credentials, date: Date, fixed: Record<string, string>, reference = signer): Promise<void> {
  const route = signingRoute(signer, loadSdkParts().getCanonicalHeaders, '/', fixed, 'eu-west-1', 'dynamodb');
  const ours = await signHeaders(route, credentials, BODY, Buffer.byteLength(BODY), date);
  const { HttpRequest } = loadSdkParts();
  const request = new HttpRequest({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 8000, path: '/', query: {}, headers: { ...fixed, 'content-length': String(Buffer.byteLength(BODY)) }, body: BODY });
  const theirs = await reference.sign(request, { signingDate: date, signingRegion: 'eu-west-1', signingService: 'dynamodb' });
  assert.deepEqual(ours, theirs.headers, `the SDK signer's headers at ${date.toISOString()}`);
}

const FIXED = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem', host: '127.0.0.1:8000' };

describe('DynamoDB record path signing', () => {
  test('lasting credentials: the SDK signer\'s headers and signature, on two days', async () => {
    const credentials = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    const signer = await sdkSigner(() => Promise.resolve(credentials));
    assert.equal(signer.applyChecksum, true, 'the SDK sends the payload hash to DynamoDB');
    await compare(signer, credentials, new Date('2026-12-07T23:59:59Z'), FIXED);
    await compare(signer, credentials, new Date('2026-12-08T00:00:01Z'), FIXED);
    await compare(signer, credentials, new Date('2026-12-07T12:00:00Z'), FIXED);
  });

  test('temporary credentials sign the session token; changed credentials sign with their own key', async () => {
    const first = { accessKeyId: 'ASIA1', secretAccessKey: 'secret-1', sessionToken: 'token-1' };
    const signer = await sdkSigner(() => Promise.resolve(first));
    const date = new Date('2026-12-07T05:00:00Z');
    await compare(signer, first, date, FIXED);
    const current = { accessKeyId: 'ASIA2', secretAccessKey: 'secret-2', sessionToken: 'token-2' };
    await compare(signer, current, date, FIXED, await sdkSigner(() => Promise.resolve(current)));
    const route = signingRoute(signer, loadSdkParts().getCanonicalHeaders, '/', FIXED, 'eu-west-1', 'dynamodb');
    const headers = await signHeaders(route, current, BODY, Buffer.byteLength(BODY), date);
    assert.equal(headers['x-amz-security-token'], 'token-2');
    assert.match(headers.authorization ?? '', /SignedHeaders=[^,]*x-amz-security-token/);
  });

  test('endpoint headers in canonical form, and a header the SDK does not sign', async () => {
    const credentials = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    const signer = await sdkSigner(() => Promise.resolve(credentials));
    const fixed = { 'X-Custom-Endpoint': '  a   b ', ...FIXED, 'user-agent': 'not signed' };
    await compare(signer, credentials, new Date('2026-12-07T05:00:00Z'), fixed);
    const route = signingRoute(signer, loadSdkParts().getCanonicalHeaders, '/', fixed, 'eu-west-1', 'dynamodb');
    const headers = await signHeaders(route, credentials, BODY, Buffer.byteLength(BODY), new Date());
    assert.doesNotMatch(headers.authorization ?? '', /user-agent/, 'user-agent is never signed');
    assert.match(headers.authorization ?? '', /SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target;x-custom-endpoint,/);
  });

  test('invalid credentials are refused as the SDK refuses them', async () => {
    const credentials = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    const signer = await sdkSigner(() => Promise.resolve(credentials));
    const route = signingRoute(signer, loadSdkParts().getCanonicalHeaders, '/', FIXED, 'eu-west-1', 'dynamodb');
    await assert.rejects(signHeaders(route, { accessKeyId: 'AKID' } as Credentials, BODY, 1, new Date()), /Resolved credential object is not valid/);
  });
});
