import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestBackend } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { client, startService } from '../support/service.js';
import { assertIssues, serviceForSuite } from '../support/suite-service.js';

const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
const BATCH = '/api/v1/get/items/batch';

let counter = 0;
function uid(): string {
  counter += 1;
  return `batch-${process.pid}-${Date.now()}-${counter}`;
}

function writeBody(entityValue: string, features: Record<string, unknown>, category = CAT, entityType = 'bright_uid') {
  return { meta: { source: 'prediction_service', compute_id: 'job-b' }, data: { entity_type: entityType, entity_value: entityValue, category, features } };
}

function batchBody(entityValues: unknown, featureList: unknown = [`${CAT}:*`], entityType = 'bright_uid') {
  return { meta: { source: 'ranking-service' }, data: { entity_type: entityType, entity_values: entityValues, feature_list: featureList } };
}

interface BatchAnswer {
  entity_type: string;
  results: { entity_value: string; items: Record<string, { features: { data: unknown } }>; unavailable_feature_categories: string[] }[];
}

/** The batch read over HTTP, on every backend. */
function batchSuite(backend: TestBackend, maxEntities: number): void {
  describe(`HTTP batch read: ${backend.name}`, () => {
    // 1,000 is the default: then the setting is left unset.
    const { http, time } = serviceForSuite(backend, maxEntities === 1000 ? {} : { BATCH_MAX_ENTITIES: String(maxEntities) });

    test('one result per value in request order, each byte for byte the multi-read answer without entity_type; missing and duplicate values', async () => {
      const [u1, u2, none] = [uid(), uid(), uid()];
      time.set('2025-10-16T10:00:00.000Z');
      await http.post('/api/v1/items', writeBody(u1, { credit_score: 750, ratio: 0.35, other: 'x' }));
      await http.post('/api/v1/items', writeBody(u1, { b: [1, 0.5], a: null }, CAT2));
      time.set('2025-10-16T10:05:00.000Z');
      await http.post('/api/v1/items', writeBody(u2, { credit_score: 600 }, CAT2));
      const featureList = [`${CAT}:credit_score`, 'secret:x', `${CAT2}:*`, `${CAT}:ratio`];
      const values = [u2, u1, none, u1];

      const res = await http.post(BATCH, batchBody(values, featureList));
      assert.equal(res.status, 200, res.text);
      const singles: string[] = [];
      for (const value of values) {
        const one = await http.post('/api/v1/get/items', { meta: { source: 'ranking-service' }, data: { entity_type: 'bright_uid', entity_value: value, feature_list: featureList } });
        const { entity_value: entityValue, entity_type: entityType, ...rest } = one.json as Record<string, unknown>;
        assert.equal(entityType, 'bright_uid');
        singles.push(JSON.stringify({ entity_value: entityValue, ...rest }));
      }
      assert.equal(res.text, `{"entity_type":"bright_uid","results":[${singles.join(',')}]}`);
      const u1Result =
        `{"entity_value":${JSON.stringify(u1)},"items":{"d0_unauth_features":{"bright_uid":${JSON.stringify(u1)},"category":"d0_unauth_features",` +
        `"features":{"data":{"credit_score":750,"ratio":0.35},"meta":{"created_at":"2025-10-16T10:00:00.000Z","updated_at":"2025-10-16T10:00:00.000Z","compute_id":"job-b"}}},` +
        `"ncr_unauth_features":{"bright_uid":${JSON.stringify(u1)},"category":"ncr_unauth_features",` +
        `"features":{"data":{"b":[1,0.5],"a":null},"meta":{"created_at":"2025-10-16T10:00:00.000Z","updated_at":"2025-10-16T10:00:00.000Z","compute_id":"job-b"}}}},` +
        `"unavailable_feature_categories":["secret"]}`;
      assert.equal(singles[1], u1Result);
      assert.equal(singles[3], u1Result);
      const answer = res.json as BatchAnswer;
      assert.deepEqual(answer.results.map((r) => r.entity_value), values);
      assert.deepEqual(answer.results[0]?.unavailable_feature_categories, [CAT, 'secret']);
      assert.deepEqual(answer.results[2], { entity_value: none, items: {}, unavailable_feature_categories: [CAT, CAT2, 'secret'] });
    });

    test('account_pid is its own keyspace; nothing allowed is still 200 with one empty result per value', async () => {
      const id = uid();
      await http.post('/api/v1/items', writeBody(id, { a: 1 }, CAT, 'account_pid'));
      const byAccount = (await http.post(BATCH, batchBody([id], [`${CAT}:*`], 'account_pid'))).json as BatchAnswer;
      assert.equal(byAccount.entity_type, 'account_pid');
      assert.deepEqual(byAccount.results[0]?.items[CAT]?.features.data, { a: 1 });
      const byUser = (await http.post(BATCH, batchBody([id])).then((r) => r.json)) as BatchAnswer;
      assert.deepEqual(byUser.results, [{ entity_value: id, items: {}, unavailable_feature_categories: [CAT] }]);
      const refused = await http.post(BATCH, batchBody([id, id], ['x:a']));
      assert.equal(refused.status, 200);
      assert.deepEqual((refused.json as BatchAnswer).results, [
        { entity_value: id, items: {}, unavailable_feature_categories: ['x'] },
        { entity_value: id, items: {}, unavailable_feature_categories: ['x'] },
      ]);
    });

    test(`the most entities allowed (${maxEntities}) with both categories are answered in one request, aligned`, async () => {
      const values = Array.from({ length: maxEntities }, () => uid());
      const stored = values.filter((_, i) => i % 97 === 3);
      for (const [n, value] of stored.entries()) await http.post('/api/v1/items', writeBody(value, { n }, n % 2 === 0 ? CAT : CAT2));
      const res = await http.post(BATCH, batchBody(values, [`${CAT}:*`, `${CAT2}:*`]));
      assert.equal(res.status, 200, res.text.slice(0, 500));
      const results = (res.json as BatchAnswer).results;
      assert.equal(results.length, maxEntities);
      results.forEach((r, i) => {
        assert.equal(r.entity_value, values[i]);
        const n = stored.indexOf(values[i] as string);
        if (n < 0) {
          assert.deepEqual(r.items, {});
          assert.deepEqual(r.unavailable_feature_categories, [CAT, CAT2]);
        } else {
          const category = n % 2 === 0 ? CAT : CAT2;
          assert.deepEqual(Object.keys(r.items), [category]);
          assert.deepEqual(r.items[category]?.features.data, { n });
          assert.deepEqual(r.unavailable_feature_categories, [n % 2 === 0 ? CAT2 : CAT]);
        }
      });
    });

    test('validation as the multi-read; an empty list and more than BATCH_MAX_ENTITIES values are 422 at data.entity_values', async () => {
      assertIssues(await http.post(BATCH, batchBody([])), [{ type: 'too_short', loc: ['body', 'data', 'entity_values'] }]);
      const tooMany = Array.from({ length: maxEntities + 1 }, (_, i) => `u${i}`);
      assertIssues(await http.post(BATCH, batchBody(tooMany)), [
        { type: 'too_long', loc: ['body', 'data', 'entity_values'], msg: `Should have at most ${maxEntities} items` },
      ]);
      assertIssues(await http.post(BATCH, batchBody(tooMany, [`${CAT}:*`], 'planet')), [
        { type: 'literal_error', loc: ['body', 'data', 'entity_type'], msg: "Input should be 'bright_uid' or 'account_pid'" },
        { type: 'too_long', loc: ['body', 'data', 'entity_values'], msg: `Should have at most ${maxEntities} items` },
      ]);
      assertIssues(await http.post(BATCH, batchBody(['ok', '', 'x'.repeat(1025), 7])), [
        { type: 'string_too_short', loc: ['body', 'data', 'entity_values', 1] },
        { type: 'string_too_long', loc: ['body', 'data', 'entity_values', 2] },
        { type: 'string_type', loc: ['body', 'data', 'entity_values', 3] },
      ]);
      assertIssues(await http.post(BATCH, batchBody('u1')), [{ type: 'list_type', loc: ['body', 'data', 'entity_values'] }]);
      assertIssues(await http.post(BATCH, batchBody(['u'], ['abc', `${CAT}:a`])), [{ type: 'value_error', loc: ['body', 'data', 'feature_list', 0] }]);
      assertIssues(await http.post(BATCH, batchBody(['u'], [])), [{ type: 'too_short', loc: ['body', 'data', 'feature_list'] }]);
      const { meta: _meta, ...noMeta } = batchBody(['u']);
      assertIssues(await http.post(BATCH, noMeta), [{ type: 'missing', loc: ['body', 'meta'] }]);
      assertIssues(await http.post(BATCH, { ...batchBody(['u']), meta: {} }), [{ type: 'missing', loc: ['body', 'meta', 'source'] }]);
      assertIssues(await http.post(BATCH, { meta: { source: 's' }, data: {} }), [
        { type: 'missing', loc: ['body', 'data', 'entity_type'] },
        { type: 'missing', loc: ['body', 'data', 'entity_values'] },
        { type: 'missing', loc: ['body', 'data', 'feature_list'] },
      ]);
    });

    test('documented in OpenAPI; reads counted per key in metrics', async () => {
      const doc = (await http.get('/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
      assert.ok(doc.paths[BATCH]?.post, 'doc.paths[BATCH]?.post');
      const before = await readsCounted(http);
      const id = uid();
      await http.post('/api/v1/items', writeBody(id, { a: 1 }, CAT2, 'account_pid'));
      await http.post(BATCH, batchBody([id, id, uid()], [`${CAT2}:*`], 'account_pid'));
      const now = await readsCounted(http);
      assert.equal(now.hit - before.hit, 2);
      assert.equal(now.miss - before.miss, 1);
    });
  });

  describe(`HTTP batch read when the store is unreachable: ${backend.name}`, () => {
    test('503 with Retry-After', async () => {
      const instance = await backend.setup();
      const runtime = await startService(instance);
      try {
        await runtime.store.close();
        const res = await client(runtime.url).post(BATCH, batchBody(['u1', 'u2']));
        assert.equal(res.status, 503, res.text);
        assert.ok(res.headers.get('retry-after'), `res.headers.get('retry-after')`);
      } finally {
        await runtime.close();
        await instance.teardown();
      }
    });
  });
}

async function readsCounted(http: ReturnType<typeof client>): Promise<{ hit: number; miss: number }> {
  const text = (await http.get('/metrics')).text;
  const value = (result: string): number => {
    const match = new RegExp(`feature_store_reads_total\\{entity_type="account_pid",category="${CAT2}",result="${result}"\\} (\\d+)`).exec(text);
    return match === null ? 0 : Number(match[1]);
  };
  return { hit: value('hit'), miss: value('miss') };
}

// The default limit on SQLite; a smaller one on DynamoDB keeps the emulators' share of the run
// short (a 1,000-value read there is 20 BatchGetItem requests of 100 keys).
for (const backend of BACKENDS) batchSuite(backend, backend.type === 'sqlite' ? 1000 : 250);
