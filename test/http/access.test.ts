import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { formatKeyFile, newSecret, type ApiKey } from '../../src/auth/api-keys.js';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { eventually, tempDir } from '../support/kafka-service.js';
import { client, startService } from '../support/service.js';

/**
 * API keys (`API_KEYS_FILE`) on every backend: 401 without a valid key, 403 for a scope or a
 * category the key lacks, 422 for a source it may not claim; health stays open; /metrics and
 * /docs are admin-only once keys are on; the file is re-read on change without a restart.
 */
const D0 = 'd0_unauth_features';
const NCR = 'ncr_unauth_features';

function key(id: string, scopes: ApiKey['scopes'], extra: Partial<ApiKey> = {}): { key: ApiKey; secret: string } {
  const { secret, hash } = newSecret(id);
  return { key: { id, hash, scopes, created_at: '2026-12-06T10:00:00.000Z', ...extra }, secret };
}

for (const backend of BACKENDS) {
  describe(`API keys: ${backend.name}`, () => {
    const dir = tempDir('feature-store-keys-');
    const file = `${dir.path}/keys.json`;
    const reader = key('reader', ['read']);
    const writer = key('writer', ['read', 'write'], { categories: [D0], sources: ['prediction_service'] });
    const admin = key('ops', ['admin']);
    const saveKeys = (keys: ApiKey[]) => writeFileSync(`${file}.tmp`, formatKeyFile({ version: 1, keys }));
    let instance: BackendInstance;
    let runtime: Runtime;
    let http: ReturnType<typeof client>;

    before(async () => {
      writeFileSync(file, formatKeyFile({ version: 1, keys: [reader.key, writer.key, admin.key] }));
      instance = await backend.setup();
      runtime = await startService(instance, { env: { API_KEYS_FILE: file, WRITE_SOURCES: 'prediction_service,backfill' } });
      http = client(runtime.url);
    });
    after(async () => {
      await runtime.close();
      await instance.teardown();
      dir.remove();
    });

    const as = (secret: string) => ({ authorization: `Bearer ${secret}` });
    const body = (id: string, category = D0, source = 'prediction_service') => ({
      meta: { source },
      data: { entity_type: 'bright_uid', entity_value: id, category, features: { score: 1 } },
    });

    test('no key, a wrong one or a malformed header → 401 with WWW-Authenticate; health stays open', async () => {
      const id = randomUUID();
      for (const headers of [{}, as('fsk.writer.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), as('nonsense'), { authorization: `Basic ${writer.secret}` }]) {
        const res = await http.post('/api/v1/items', body(id), headers);
        assert.equal(res.status, 401, JSON.stringify(headers));
        assert.equal(res.text, '{"detail":"Not authenticated","code":"NOT_AUTHENTICATED"}');
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
        const read = await http.get(`/api/v1/get/item/${id}/${D0}`, headers);
        assert.equal(read.status, 401);
      }
      assert.equal((await http.get(`/api/v1/get/item/${id}/${D0}`, as(reader.secret))).status, 404, 'nothing was written');
      assert.equal((await http.get('/api/v1/health')).status, 200);
    });

    test('a key reads and writes within its scopes and categories; 403 beyond them, and nothing changes', async () => {
      const id = randomUUID();
      assert.equal((await http.post('/api/v1/items', body(id), as(writer.secret))).status, 200);
      const read = await http.get(`/api/v1/get/item/${id}/${D0}`, as(reader.secret));
      assert.equal(read.status, 200);

      const noScope = await http.post('/api/v1/items', body(id), as(reader.secret));
      assert.equal(noScope.status, 403);
      assert.equal(noScope.text, `{"detail":"API key 'reader' lacks the 'write' scope","code":"FORBIDDEN"}`);
      const adminOnly = await http.get(`/api/v1/get/item/${id}/${D0}`, as(admin.secret));
      assert.equal(adminOnly.status, 403, 'admin is its own scope, not a superset');

      const otherCategory = await http.post('/api/v1/items', body(id, NCR), as(writer.secret));
      assert.equal(otherCategory.status, 403);
      assert.equal((otherCategory.json as { detail: string }).detail, `API key 'writer' may not access category '${NCR}'`);
      assert.equal((await http.get(`/api/v1/get/item/${id}/${NCR}`, as(writer.secret))).status, 403);
      assert.equal((await http.get(`/api/v1/get/item/${id}?category=${NCR}`, as(writer.secret))).status, 403);
      const multi = (list: string[], secret: string) =>
        http.post('/api/v1/get/items', { meta: { source: 'x' }, data: { entity_type: 'bright_uid', entity_value: id, feature_list: list } }, as(secret));
      assert.equal((await multi([`${D0}:*`, `${NCR}:score`], writer.secret)).status, 403);
      assert.equal((await multi([`${D0}:*`], writer.secret)).status, 200);
      assert.equal((await multi([`${D0}:*`, `${NCR}:score`], reader.secret)).status, 200, 'no restriction: every category');
      assert.equal((await http.get(`/api/v1/get/item/${id}/${NCR}`, as(reader.secret))).status, 404, 'the refused write stored nothing');
    });

    test('batch reads, merges, deletes and erasures take the same scopes, categories and sources', async () => {
      const id = randomUUID();
      assert.equal((await http.post('/api/v1/items', body(id), as(writer.secret))).status, 200);
      const batch = (list: string[], secret: string) =>
        http.post('/api/v1/get/items/batch', { meta: { source: 'x' }, data: { entity_type: 'bright_uid', entity_values: [id], feature_list: list } }, as(secret));
      assert.equal((await batch([`${D0}:*`], reader.secret)).status, 200);
      assert.equal((await batch([`${NCR}:*`], writer.secret)).status, 403);
      assert.equal((await batch([`${D0}:*`], admin.secret)).status, 403);
      assert.equal((await http.request('PATCH', '/api/v1/items', body(id), as(reader.secret))).status, 403);
      assert.equal((await http.request('PATCH', '/api/v1/items', body(id), as(writer.secret))).status, 200);
      assert.equal((await http.request('PATCH', '/api/v1/items', body(id, NCR), as(writer.secret))).status, 403);
      const del = (path: string, secret: string) => http.request('DELETE', path, undefined, as(secret));
      assert.equal((await del(`/api/v1/items/bright_uid/${id}/${D0}?source=prediction_service`, reader.secret)).status, 403);
      assert.equal((await del(`/api/v1/items/bright_uid/${id}?source=prediction_service`, writer.secret)).status, 403, 'an erasure touches every category');
      const refused = await del(`/api/v1/items/bright_uid/${id}/${D0}?source=backfill`, writer.secret);
      assert.equal(refused.status, 422);
      assert.deepEqual((refused.json as { detail: { loc: string[] }[] }).detail.map((d) => d.loc), [['query', 'source']]);
      assert.equal((await http.get(`/api/v1/get/item/${id}/${D0}`, as(reader.secret))).status, 200, 'nothing was deleted');
      assert.equal((await del(`/api/v1/items/bright_uid/${id}/${D0}?source=prediction_service`, writer.secret)).status, 200);
      assert.equal((await http.get(`/api/v1/get/item/${id}/${D0}`, as(reader.secret))).status, 404);
    });

    test('a source the key may not claim → 422 at body.meta.source, even when WRITE_SOURCES allows it', async () => {
      const id = randomUUID();
      const res = await http.post('/api/v1/items', body(id, D0, 'backfill'), as(writer.secret));
      assert.equal(res.status, 422);
      const detail = (res.json as { detail: { type: string; loc: string[]; msg: string }[] }).detail;
      assert.deepEqual(detail.map((d) => [d.type, d.loc]), [['value_error', ['body', 'meta', 'source']]]);
      assert.match(detail[0]?.msg ?? '', /source 'backfill' may not be claimed with API key 'writer'\. Allowed sources: prediction_service/);
      assert.equal((await http.get(`/api/v1/get/item/${id}/${D0}`, as(reader.secret))).status, 404);
    });

    test('/metrics and /docs need the admin scope; requests are counted per key id', async () => {
      assert.equal((await http.get('/metrics')).status, 401);
      assert.equal((await http.get('/metrics', as(reader.secret))).status, 403);
      const metrics = await http.get('/metrics', as(admin.secret));
      assert.equal(metrics.status, 200);
      assert.match(metrics.text, /^feature_store_api_key_requests_total\{key_id="writer"\} [1-9]\d*$/m);
      assert.doesNotMatch(metrics.text, /fsk\./, 'no secret in metrics');
      assert.equal((await http.get('/openapi.json', as(reader.secret))).status, 403);
      assert.equal((await http.get('/openapi.json', as(admin.secret))).status, 200);
      assert.equal((await http.get('/docs/', as(admin.secret))).status, 200);
      assert.equal((await http.get('/docs/')).status, 401);
    });

    test('a changed file takes effect without a restart; an unusable one keeps the keys in force', async () => {
      const { renameSync } = await import('node:fs');
      const late = key('late', ['read']);
      saveKeys([reader.key, writer.key, admin.key, late.key]);
      renameSync(`${file}.tmp`, file);
      await eventually(async () => (await http.get('/api/v1/get/item/x/d0_unauth_features', as(late.secret))).status === 404, 5_000, 'new key accepted');

      writeFileSync(file, '{"version": 1, "keys": [ half written');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await http.get('/api/v1/get/item/x/d0_unauth_features', as(late.secret))).status, 404, 'keys in force stay');

      saveKeys([writer.key, admin.key]); // reader and late revoked
      renameSync(`${file}.tmp`, file);
      await eventually(async () => (await http.get('/api/v1/get/item/x/d0_unauth_features', as(reader.secret))).status === 401, 5_000, 'revoked key refused');
      assert.equal((await http.get('/api/v1/get/item/x/d0_unauth_features', as(late.secret))).status, 401);
      assert.equal((await http.get('/api/v1/get/item/x/d0_unauth_features', as(writer.secret))).status, 404);
    });
  });
}
