import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance, TestBackend } from '../support/backend.js';
import { client, manualClock, startService, type HttpResult } from '../support/service.js';

const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
const ALLOWED = 'd0_unauth_features, ncr_unauth_features';

let counter = 0;
function uid(): string {
  counter += 1;
  return `user-${process.pid}-${Date.now()}-${counter}`;
}

function writeBody(entityValue: string, features: unknown, extra: { category?: string; compute_id?: string | null; entity_type?: string; source?: string } = {}) {
  const meta: Record<string, unknown> = { source: extra.source ?? 'prediction_service' };
  if (extra.compute_id !== undefined) meta.compute_id = extra.compute_id;
  return {
    meta,
    data: {
      entity_type: extra.entity_type ?? 'bright_uid',
      entity_value: entityValue,
      category: extra.category ?? CAT,
      features,
    },
  };
}

const enc = encodeURIComponent;

/**
 * The HTTP contract of API.md, against a real server on an ephemeral port over real sockets.
 * Every backend runs it unchanged.
 */
export function httpSuite(backend: TestBackend): void {
  describe(`HTTP API: ${backend.name}`, () => {
    let instance: BackendInstance;
    let runtime: Runtime;
    let http: ReturnType<typeof client>;
    const time = manualClock();

    before(async () => {
      instance = await backend.setup();
      runtime = await startService(instance, { clock: time.clock });
      http = client(runtime.url);
    });
    after(async () => {
      await runtime.close();
      await instance.teardown();
    });

    async function expectNothingStored(entityValue: string, category = CAT): Promise<void> {
      const res = await http.get(`/api/v1/get/item/${enc(entityValue)}/${category}`);
      assert.equal(res.status, 404, `nothing may be stored for ${entityValue}`);
    }

    function assertValidationError(res: HttpResult, expected: { type: string; loc: (string | number)[] }[]): void {
      assert.equal(res.status, 422, res.text);
      const body = res.json as { detail: { type: string; loc: (string | number)[]; msg: string }[] };
      assert.ok(Array.isArray(body.detail), res.text);
      for (const d of body.detail) assert.equal(typeof d.msg, 'string');
      assert.deepEqual(
        body.detail.map((d) => ({ type: d.type, loc: d.loc })),
        expected,
      );
    }

    describe('write and read one category', () => {
      test('write answers 200 with the exact body; both read forms return the record byte for byte', async () => {
        const id = uid();
        time.set('2025-10-16T10:00:00.000Z');
        const res = await http.post(
          '/api/v1/items',
          writeBody(id, { credit_score: 750, debt_to_income_ratio: 0.35 }, { compute_id: 'spark-job-2025-10-16-abc123' }),
        );
        assert.equal(res.status, 200);
        assert.equal(
          res.text,
          JSON.stringify({
            message: 'Category written successfully (full replace)',
            entity_value: id,
            entity_type: 'bright_uid',
            category: CAT,
            feature_count: 2,
          }),
        );
        const expected =
          `{"bright_uid":${JSON.stringify(id)},"category":"d0_unauth_features","features":{"data":{"credit_score":750,"debt_to_income_ratio":0.35},` +
          `"meta":{"created_at":"2025-10-16T10:00:00.000Z","updated_at":"2025-10-16T10:00:00.000Z","compute_id":"spark-job-2025-10-16-abc123"}}}`;
        const byPath = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}?entity_type=bright_uid`);
        assert.equal(byPath.status, 200);
        assert.match(byPath.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(byPath.text, expected);
        const byQuery = await http.get(`/api/v1/get/item/${enc(id)}?category=${CAT}&entity_type=bright_uid`);
        assert.equal(byQuery.text, expected);
        const defaultType = await http.get(`/api/v1/get/item/${enc(id)}?category=${CAT}`);
        assert.equal(defaultType.text, expected);
      });

      test('a second write replaces the category: old features gone, created_at kept, updated_at moved, compute_id null', async () => {
        const id = uid();
        time.set('2025-10-16T10:00:00.000Z');
        await http.post('/api/v1/items', writeBody(id, { old_feature: 1, kept: 2 }, { compute_id: 'job-1' }));
        time.set('2025-10-16T10:05:00.000Z');
        const second = await http.post('/api/v1/items', writeBody(id, { kept: 3, fresh: 'yes' }));
        assert.equal((second.json as { feature_count: number }).feature_count, 2);
        const res = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
        assert.deepEqual(res.json, {
          bright_uid: id,
          category: CAT,
          features: {
            data: { kept: 3, fresh: 'yes' },
            meta: { created_at: '2025-10-16T10:00:00.000Z', updated_at: '2025-10-16T10:05:00.000Z', compute_id: null },
          },
        });
      });

      test('account_pid is its own keyspace and its records are keyed by account_pid', async () => {
        const id = uid();
        time.set('2025-10-16T10:00:00.000Z');
        await http.post('/api/v1/items', writeBody(id, { plan: 'gold' }, { entity_type: 'account_pid', compute_id: null }));
        const account = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}?entity_type=account_pid`);
        assert.equal(account.status, 200);
        assert.equal(
          account.text,
          `{"account_pid":${JSON.stringify(id)},"category":"${CAT}","features":{"data":{"plan":"gold"},"meta":{"created_at":"2025-10-16T10:00:00.000Z","updated_at":"2025-10-16T10:00:00.000Z","compute_id":null}}}`,
        );
        const user = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
        assert.equal(user.status, 404);
      });

      test('numbers come back exactly as sent, also inside arrays and nested objects', async () => {
        const id = uid();
        const raw =
          '{"credit_score":750,"ratio":0.35,"neg":-1.5,"small":1e-7,"big":9007199254740991,"list":[1,0.35,750,"750"],"nested":{"n":[[2.5]]},"flag":true,"none":null}';
        const body = `{"meta":{"source":"prediction_service"},"data":{"entity_type":"bright_uid","entity_value":${JSON.stringify(id)},"category":"${CAT}","features":${raw}}}`;
        const res = await http.post('/api/v1/items', body);
        assert.equal(res.status, 200, res.text);
        const read = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
        const dataText = read.text.slice(read.text.indexOf('"data":') + 7, read.text.indexOf(',"meta":'));
        assert.equal(
          dataText,
          '{"credit_score":750,"ratio":0.35,"neg":-1.5,"small":1e-7,"big":9007199254740991,"list":[1,0.35,750,"750"],"nested":{"n":[[2.5]]},"flag":true,"none":null}',
        );
        const multi = await http.post('/api/v1/get/items', {
          meta: { source: 'test' },
          data: { entity_type: 'bright_uid', entity_value: id, feature_list: [`${CAT}:list`, `${CAT}:credit_score`] },
        });
        assert.match(multi.text, /"data":\{"list":\[1,0\.35,750,"750"\],"credit_score":750\}/);
      });

      test('entity values with spaces, %, +, :, / and non-ASCII text round-trip through URLs', async () => {
        for (const id of [`a b ${uid()}`, `50%+off:${uid()}`, `path/like/${uid()}`, `ünï-名前-${uid()}`]) {
          const res = await http.post('/api/v1/items', writeBody(id, { v: 1 }));
          assert.equal(res.status, 200);
          const read = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
          assert.equal(read.status, 200, `${id}: ${read.text}`);
          assert.equal((read.json as { bright_uid: string }).bright_uid, id);
          const byQuery = await http.get(`/api/v1/get/item/${enc(id)}?category=${CAT}`);
          assert.equal(byQuery.status, 200, `${id}: ${byQuery.text}`);
        }
      });

      test("a record written by the old service reads in the new format and keeps created_at on the next write", async () => {
        const id = uid();
        await instance.insertLegacy({
          entityType: 'bright_uid',
          entityValue: id,
          category: CAT,
          data: { credit_score: 700 },
          createdAt: '2025-10-16T10:00:00.123456+00:00',
          updatedAt: '2025-10-16T12:00:00.654321+00:00',
          computeId: 'old-job',
        });
        const legacy = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
        assert.match(legacy.text, /"meta":\{"created_at":"2025-10-16T10:00:00\.123Z","updated_at":"2025-10-16T12:00:00\.654Z","compute_id":"old-job"\}/);
        time.set('2025-11-01T00:00:00.000Z');
        await http.post('/api/v1/items', writeBody(id, { credit_score: 720 }, { compute_id: 'new-job' }));
        const after = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
        assert.deepEqual((after.json as { features: unknown }).features, {
          data: { credit_score: 720 },
          meta: { created_at: '2025-10-16T10:00:00.123Z', updated_at: '2025-11-01T00:00:00.000Z', compute_id: 'new-job' },
        });
      });

      test('50 concurrent first writes to one key: exactly one created_at survives', async () => {
        const id = uid();
        time.set('2025-10-16T10:00:00.000Z');
        const responses = await Promise.all(
          Array.from({ length: 50 }, (_, i) => {
            time.advance(1);
            return http.post('/api/v1/items', writeBody(id, { writer: i }));
          }),
        );
        // Node's assert.ok without a message parses this file to describe a failure, which takes
        // minutes here (nodejs/node#52677): every assertion in this suite states its message.
        assert.deepEqual(
          responses.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`),
          [],
        );
        const first = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
        const meta = (first.json as { features: { meta: { created_at: string; updated_at: string } } }).features.meta;
        assert.ok(meta.created_at >= '2025-10-16T10:00:00.000Z' && meta.created_at <= '2025-10-16T10:00:00.050Z', meta.created_at);
        time.set('2025-10-16T11:00:00.000Z');
        await http.post('/api/v1/items', writeBody(id, { writer: 'last' }));
        const later = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
        const laterMeta = (later.json as { features: { meta: { created_at: string; updated_at: string } } }).features.meta;
        assert.equal(laterMeta.created_at, meta.created_at);
        assert.equal(laterMeta.updated_at, '2025-10-16T11:00:00.000Z');
      });
    });

    describe('read errors', () => {
      test('a category not on the allow-list is 400 on both read forms', async () => {
        const expected = `{"detail":"Category 'secret_features' is not allowed for read operations. Allowed categories: ${ALLOWED}","code":"CATEGORY_NOT_ALLOWED"}`;
        const a = await http.get('/api/v1/get/item/user-1/secret_features');
        assert.equal(a.status, 400);
        assert.equal(a.text, expected);
        const b = await http.get('/api/v1/get/item/user-1?category=secret_features');
        assert.equal(b.status, 400);
        assert.equal(b.text, expected);
      });

      test('an unknown entity type is 400', async () => {
        const res = await http.get(`/api/v1/get/item/user-1/${CAT}?entity_type=planet`);
        assert.equal(res.status, 400);
        assert.equal(res.text, '{"detail":"Invalid entity_type: planet","code":"INVALID_ENTITY_TYPE"}');
      });

      test('an empty entity_type query parameter is 400 on both read forms', async () => {
        for (const path of [`/api/v1/get/item/u/${CAT}?entity_type=`, `/api/v1/get/item/u?category=${CAT}&entity_type=`]) {
          const res = await http.get(path);
          assert.equal(res.status, 400, path);
          assert.equal(res.text, '{"detail":"Invalid entity_type: ","code":"INVALID_ENTITY_TYPE"}');
        }
      });

      test('a missing record is 404 naming it', async () => {
        const res = await http.get(`/api/v1/get/item/nobody-here/${CAT}`);
        assert.equal(res.status, 404);
        assert.equal(res.text, `{"detail":"Item not found: nobody-here/${CAT}","code":"NOT_FOUND"}`);
      });

      test('the query form without category is a 422 at ["query","category"]', async () => {
        const res = await http.get('/api/v1/get/item/user-1');
        assertValidationError(res, [{ type: 'missing', loc: ['query', 'category'] }]);
      });

      test('an entity value over 1,024 characters in the path is a 422', async () => {
        const res = await http.get(`/api/v1/get/item/${'x'.repeat(1025)}/${CAT}`);
        assertValidationError(res, [{ type: 'string_too_long', loc: ['path', 'entity_value'] }]);
        const ok = await http.get(`/api/v1/get/item/${'é'.repeat(1024)}/${CAT}`);
        assert.equal(ok.status, 404);
      });
    });

    describe('write errors store nothing', () => {
      test('a category not on the allow-list is 400', async () => {
        const id = uid();
        const res = await http.post('/api/v1/items', writeBody(id, { a: 1 }, { category: 'secret_features' }));
        assert.equal(res.status, 400);
        assert.equal(res.text, `{"detail":"Category 'secret_features' is not allowed for write operations. Allowed categories: ${ALLOWED}","code":"CATEGORY_NOT_ALLOWED"}`);
        await expectNothingStored(id, 'secret_features'.replace('secret_features', CAT));
      });

      test('a source that is not an allowed writer is 422 at meta.source', async () => {
        const id = uid();
        const res = await http.post('/api/v1/items', writeBody(id, { a: 1 }, { source: 'someone_else' }));
        assertValidationError(res, [{ type: 'value_error', loc: ['body', 'meta', 'source'] }]);
        await expectNothingStored(id);
      });

      test('a refused source is listed together with the schema problems of data', async () => {
        const id = uid();
        const res = await http.post('/api/v1/items', { meta: { source: 'intruder' }, data: { entity_type: 'bright_uid', entity_value: id } });
        assertValidationError(res, [
          { type: 'value_error', loc: ['body', 'meta', 'source'] },
          { type: 'missing', loc: ['body', 'data', 'category'] },
          { type: 'missing', loc: ['body', 'data', 'features'] },
        ]);
        assert.equal((res.json as { code: string }).code, 'VALIDATION_FAILED');
      });

      test('an unknown entity type is 422 at data.entity_type', async () => {
        const id = uid();
        const res = await http.post('/api/v1/items', writeBody(id, { a: 1 }, { entity_type: 'planet' }));
        assertValidationError(res, [{ type: 'literal_error', loc: ['body', 'data', 'entity_type'] }]);
      });

      test('data: {} lists one missing entry per required field', async () => {
        const res = await http.post('/api/v1/items', { meta: { source: 'prediction_service' }, data: {} });
        assertValidationError(res, [
          { type: 'missing', loc: ['body', 'data', 'entity_type'] },
          { type: 'missing', loc: ['body', 'data', 'entity_value'] },
          { type: 'missing', loc: ['body', 'data', 'category'] },
          { type: 'missing', loc: ['body', 'data', 'features'] },
        ]);
      });

      test('every problem is listed, each at its field', async () => {
        const res = await http.post('/api/v1/items', {
          meta: { compute_id: 5 },
          data: { entity_type: 'bright_uid', entity_value: 42, category: CAT, features: [] },
        });
        assertValidationError(res, [
          { type: 'missing', loc: ['body', 'meta', 'source'] },
          { type: 'string_type', loc: ['body', 'meta', 'compute_id'] },
          { type: 'string_type', loc: ['body', 'data', 'entity_value'] },
          { type: 'dict_type', loc: ['body', 'data', 'features'] },
        ]);
      });

      test('an empty features object, an empty entity value and a non-object body are 422', async () => {
        assertValidationError(await http.post('/api/v1/items', writeBody(uid(), {})), [
          { type: 'too_short', loc: ['body', 'data', 'features'] },
        ]);
        assertValidationError(await http.post('/api/v1/items', writeBody('', { a: 1 })), [
          { type: 'string_too_short', loc: ['body', 'data', 'entity_value'] },
        ]);
        assertValidationError(await http.post('/api/v1/items', '[1,2]'), [{ type: 'dict_type', loc: ['body'] }]);
      });

      test('malformed JSON is json_invalid at its offset; bare NaN too; an empty body is missing', async () => {
        const broken = await http.post('/api/v1/items', '{"meta": {"source": }');
        assertValidationError(broken, [{ type: 'json_invalid', loc: ['body', 20] }]);
        const nan = await http.post('/api/v1/items', '{"meta":{"source":"prediction_service"},"data":{"entity_type":"bright_uid","entity_value":"u","category":"d0_unauth_features","features":{"x":NaN}}}');
        assert.equal(nan.status, 422);
        const detail = (nan.json as { detail: { type: string; loc: unknown[] }[] }).detail;
        assert.equal(detail[0]?.type, 'json_invalid');
        assert.equal(detail[0]?.loc[0], 'body');
        assert.equal(typeof detail[0]?.loc[1], 'number');
        const empty = await http.request('POST', '/api/v1/items', '', { 'content-type': 'application/json' });
        assertValidationError(empty, [{ type: 'missing', loc: ['body'] }]);
        await expectNothingStored('u');
      });

      test('integers beyond ±2^53 and non-finite numbers are 422, nothing stored', async () => {
        const id = uid();
        const body = (v: string) =>
          `{"meta":{"source":"prediction_service"},"data":{"entity_type":"bright_uid","entity_value":"${id}","category":"${CAT}","features":{"ok":1,"n":${v}}}}`;
        assertValidationError(await http.post('/api/v1/items', body('9007199254740993')), [
          { type: 'int_unsafe', loc: ['body', 'data', 'features', 'n'] },
        ]);
        assertValidationError(await http.post('/api/v1/items', body('-9007199254740993')), [
          { type: 'int_unsafe', loc: ['body', 'data', 'features', 'n'] },
        ]);
        assertValidationError(await http.post('/api/v1/items', body('[1, {"x": 12345678901234567890}]')), [
          { type: 'int_unsafe', loc: ['body', 'data', 'features', 'n', 1, 'x'] },
        ]);
        assertValidationError(await http.post('/api/v1/items', body('1e400')), [
          { type: 'finite_number', loc: ['body', 'data', 'features', 'n'] },
        ]);
        await expectNothingStored(id);
        assert.equal((await http.post('/api/v1/items', body('9007199254740991'))).status, 200);
      });

      test('limits: entity value 1,024 characters, 2,500 features, nesting 32 levels', async () => {
        const long = 'v'.repeat(1024 - 12) + uid().slice(-12);
        assert.equal((await http.post('/api/v1/items', writeBody(long, { a: 1 }))).status, 200);
        const tooLong = 'v'.repeat(1025);
        assertValidationError(await http.post('/api/v1/items', writeBody(tooLong, { a: 1 })), [
          { type: 'string_too_long', loc: ['body', 'data', 'entity_value'] },
        ]);

        const id = uid();
        const many = Object.fromEntries(Array.from({ length: 2501 }, (_, i) => [`f${i}`, i]));
        assertValidationError(await http.post('/api/v1/items', writeBody(id, many)), [
          { type: 'too_long', loc: ['body', 'data', 'features'] },
        ]);
        const enough = Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`f${i}`, i]));
        const okMany = await http.post('/api/v1/items', writeBody(uid(), enough));
        assert.equal((okMany.json as { feature_count: number }).feature_count, 2500);

        const nest = (levels: number): unknown => {
          let v: unknown = 1;
          for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { k: v };
          return v;
        };
        assert.equal((await http.post('/api/v1/items', writeBody(uid(), { deep: nest(32) }))).status, 200);
        const tooDeep = await http.post('/api/v1/items', writeBody(id, { deep: nest(33) }));
        assert.equal(tooDeep.status, 422);
        assert.equal((tooDeep.json as { detail: { type: string }[] }).detail[0]?.type, 'too_deep');
        await expectNothingStored(id);
      });

      test('a body over 1 MiB is 413 with a JSON detail, nothing stored', async () => {
        const id = uid();
        const res = await http.post('/api/v1/items', writeBody(id, { blob: 'x'.repeat(1024 * 1024) }));
        assert.equal(res.status, 413);
        assert.equal(typeof (res.json as { detail: string }).detail, 'string');
        await expectNothingStored(id);
      });
    });

    describe('multi-category read', () => {
      test('selected features and category:* across categories; unavailable lists missing then refused', async () => {
        const id = uid();
        time.set('2025-10-16T10:00:00.000Z');
        await http.post('/api/v1/items', writeBody(id, { credit_score: 750, ratio: 0.35, other: 'x' }, { compute_id: 'job-a' }));
        const res = await http.post('/api/v1/get/items', {
          meta: { source: 'any-caller' },
          data: {
            entity_type: 'bright_uid',
            entity_value: id,
            feature_list: ['secret:x', `${CAT}:credit_score`, `${CAT}:no_such_feature`, `${CAT2}:*`, `${CAT}:ratio`],
          },
        });
        assert.equal(res.status, 200);
        assert.equal(
          res.text,
          JSON.stringify({
            entity_value: id,
            entity_type: 'bright_uid',
            items: {
              [CAT]: {
                bright_uid: id,
                category: CAT,
                features: {
                  data: { credit_score: 750, ratio: 0.35 },
                  meta: { created_at: '2025-10-16T10:00:00.000Z', updated_at: '2025-10-16T10:00:00.000Z', compute_id: 'job-a' },
                },
              },
            },
            unavailable_feature_categories: [CAT2, 'secret'],
          }),
        );
      });

      test('category:* wins over named features of the same category, in either order', async () => {
        const id = uid();
        await http.post('/api/v1/items', writeBody(id, { a: 1, b: 2 }));
        for (const list of [[`${CAT}:a`, `${CAT}:*`], [`${CAT}:*`, `${CAT}:a`]]) {
          const res = await http.post('/api/v1/get/items', { meta: { source: 'test' }, data: { entity_type: 'bright_uid', entity_value: id, feature_list: list } });
          assert.deepEqual((res.json as { items: Record<string, { features: { data: unknown } }> }).items[CAT]?.features.data, { a: 1, b: 2 });
        }
      });

      test('the feature name is split at the first colon', async () => {
        const id = uid();
        await http.post('/api/v1/items', writeBody(id, { 'a:b': 1, a: 2 }));
        const res = await http.post('/api/v1/get/items', { meta: { source: 'test' }, data: { entity_type: 'bright_uid', entity_value: id, feature_list: [`${CAT}:a:b`] } });
        assert.deepEqual((res.json as { items: Record<string, { features: { data: unknown } }> }).items[CAT]?.features.data, { 'a:b': 1 });
      });

      test('feature names like __proto__ and constructor are plain features', async () => {
        const id = uid();
        const body = `{"meta":{"source":"prediction_service"},"data":{"entity_type":"bright_uid","entity_value":"${id}","category":"${CAT}","features":{"__proto__":{"x":1},"constructor":2}}}`;
        assert.equal((await http.post('/api/v1/items', body)).status, 200);
        const read = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
        assert.match(read.text, /"data":\{"__proto__":\{"x":1\},"constructor":2\}/);
        const multi = await http.post('/api/v1/get/items', {
          meta: { source: 'test' },
          data: { entity_type: 'bright_uid', entity_value: id, feature_list: [`${CAT}:__proto__`, `${CAT}:constructor`] },
        });
        assert.match(multi.text, /"data":\{"__proto__":\{"x":1\},"constructor":2\}/);
      });

      test('nothing allowed or nothing stored is still 200 with items {}', async () => {
        const refused = await http.post('/api/v1/get/items', {
          meta: { source: 'test' },
          data: { entity_type: 'bright_uid', entity_value: uid(), feature_list: ['x:a', 'y:*'] },
        });
        assert.equal(refused.status, 200);
        assert.deepEqual((refused.json as Record<string, unknown>).items, {});
        assert.deepEqual((refused.json as Record<string, unknown>).unavailable_feature_categories, ['x', 'y']);
        const missing = await http.post('/api/v1/get/items', {
          meta: { source: 'test' },
          data: { entity_type: 'bright_uid', entity_value: uid(), feature_list: [`${CAT2}:*`, `${CAT}:a`] },
        });
        assert.equal(missing.status, 200);
        assert.deepEqual((missing.json as Record<string, unknown>).items, {});
        assert.deepEqual((missing.json as Record<string, unknown>).unavailable_feature_categories, [CAT2, CAT]);
      });

      test('malformed feature_list entries, an empty list, a missing meta and an unknown entity type are 422', async () => {
        const body = (list: unknown) => ({ meta: { source: 'test' }, data: { entity_type: 'bright_uid', entity_value: 'u', feature_list: list } });
        assertValidationError(await http.post('/api/v1/get/items', body(['abc', `${CAT}:a`, 'cat:', ':x'])), [
          { type: 'value_error', loc: ['body', 'data', 'feature_list', 0] },
          { type: 'value_error', loc: ['body', 'data', 'feature_list', 2] },
          { type: 'value_error', loc: ['body', 'data', 'feature_list', 3] },
        ]);
        assertValidationError(await http.post('/api/v1/get/items', body([])), [
          { type: 'too_short', loc: ['body', 'data', 'feature_list'] },
        ]);
        const badType = await http.post('/api/v1/get/items', { meta: { source: 'test' }, data: { entity_type: 'planet', entity_value: 'u', feature_list: [`${CAT}:*`] } });
        assertValidationError(badType, [{ type: 'literal_error', loc: ['body', 'data', 'entity_type'] }]);
        const noMeta = await http.post('/api/v1/get/items', { data: { entity_type: 'bright_uid', entity_value: 'u', feature_list: [`${CAT}:*`] } });
        assertValidationError(noMeta, [{ type: 'missing', loc: ['body', 'meta'] }]);
        const emptyMeta = await http.post('/api/v1/get/items', { meta: {}, data: { entity_type: 'bright_uid', entity_value: 'u', feature_list: [`${CAT}:*`] } });
        assertValidationError(emptyMeta, [{ type: 'missing', loc: ['body', 'meta', 'source'] }]);
      });
    });

    describe('protocol and operations', () => {
      test('unknown paths are 404 Not Found; wrong methods are 405 with Allow', async () => {
        const missing = await http.get('/api/v1/nope');
        assert.equal(missing.status, 404);
        assert.equal(missing.text, '{"detail":"Not Found","code":"ROUTE_NOT_FOUND"}');
        const wrong = await http.request('DELETE', '/api/v1/items');
        assert.equal(wrong.status, 405);
        assert.equal(wrong.headers.get('allow'), 'POST, PATCH');
        assert.equal(wrong.text, '{"detail":"Method Not Allowed","code":"METHOD_NOT_ALLOWED"}');
        const wrongRead = await http.request('POST', `/api/v1/get/item/u/${CAT}`, {});
        assert.equal(wrongRead.status, 405);
        assert.match(wrongRead.headers.get('allow') ?? '', /GET/);
      });

      test('x-request-id is echoed when sent and generated otherwise, on errors too', async () => {
        const mine = await http.get('/api/v1/health', { 'x-request-id': 'trace-abc-123' });
        assert.equal(mine.headers.get('x-request-id'), 'trace-abc-123');
        const generated = await http.get('/api/v1/nope');
        assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
        const bad = await http.post('/api/v1/items', '{', { 'x-request-id': 'bad-json-1' });
        assert.equal(bad.headers.get('x-request-id'), 'bad-json-1');
      });

      test('health checks the store for real and reports tables', async () => {
        const res = await http.get('/api/v1/health');
        assert.equal(res.status, 200);
        const body = res.json as Record<string, unknown>;
        assert.equal(body.status, 'healthy');
        assert.deepEqual(body.store, { type: backend.type, ok: true });
        assert.equal(body.dynamodb_connection, backend.type === 'dynamodb');
        assert.deepEqual(
          [...(body.tables_available as string[])].sort(),
          [instance.env.TABLE_NAME_ACCOUNT_PID ?? 'account_feature_store', instance.env.TABLE_NAME_BRIGHT_UID ?? 'user_feature_store'].sort(),
        );
        assert.match(String(body.timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      });

      test('OpenAPI is generated from the validating schemas; Swagger UI is served', async () => {
        const spec = await http.get('/openapi.json');
        assert.equal(spec.status, 200);
        const doc = spec.json as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>> };
        assert.match(doc.openapi, /^3\./);
        for (const path of ['/api/v1/items', '/api/v1/get/item/{entity_value}/{category}', '/api/v1/get/item/{entity_value}', '/api/v1/get/items', '/api/v1/health']) {
          assert.ok(doc.paths[path], `${path} documented`);
        }
        const writeSchema = doc.paths['/api/v1/items']?.post?.requestBody?.content['application/json']?.schema;
        assert.ok(writeSchema?.properties.meta && writeSchema.properties.data, 'the write schema has meta and data');
        const docs = await http.get('/docs');
        assert.equal(docs.status, 200);
        assert.match(docs.text, /swagger/i);
      });

      test('metrics: requests by route template, reads hit/miss, writes; no entity values in labels', async () => {
        const id = `metric-probe-${uid()}`;
        await http.post('/api/v1/items', writeBody(id, { a: 1 }));
        await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
        await http.get(`/api/v1/get/item/missing-${enc(id)}/${CAT}`);
        const res = await http.get('/metrics');
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
        assert.match(res.text, /feature_store_http_requests_total\{route="\/api\/v1\/get\/item\/:entity_value\/:category",method="GET",status_class="2xx"\} \d+/);
        assert.match(res.text, /feature_store_http_request_duration_seconds_bucket\{/);
        assert.match(res.text, /feature_store_reads_total\{entity_type="bright_uid",category="d0_unauth_features",result="hit"\} \d+/);
        assert.match(res.text, /feature_store_reads_total\{entity_type="bright_uid",category="d0_unauth_features",result="miss"\} \d+/);
        assert.match(res.text, /feature_store_writes_total\{entity_type="bright_uid",category="d0_unauth_features"\} \d+/);
        assert.match(res.text, new RegExp(`feature_store_store_operation_duration_seconds_count\\{backend="${backend.type}",operation="get",outcome="ok"\\} \\d+`));
        assert.ok(!res.text.includes('metric-probe'), 'entity values never appear in metrics');
      });
    });
  });

  describe(`HTTP API when the store is unreachable: ${backend.name}`, () => {
    test('reads and writes are 503 with Retry-After and no internals; health is 503 unhealthy', async () => {
      const instance = await backend.setup();
      const runtime = await startService(instance);
      try {
        const http = client(runtime.url);
        await runtime.store.close();
        const read = await http.get(`/api/v1/get/item/u/${CAT}`);
        assert.equal(read.status, 503, read.text);
        assert.ok(read.headers.get('retry-after'), 'the read has Retry-After');
        assert.deepEqual(Object.keys(read.json as object), ['detail', 'code']);
        assert.doesNotMatch(read.text, /at \w+ \(|node_modules|Error:|sqlite|ECONNREFUSED/i);
        const write = await http.post('/api/v1/items', writeBody('u', { a: 1 }));
        assert.equal(write.status, 503);
        const health = await http.get('/api/v1/health');
        assert.equal(health.status, 503);
        assert.equal((health.json as { status: string }).status, 'unhealthy');
      } finally {
        await runtime.close();
        await instance.teardown();
      }
    });
  });
}
