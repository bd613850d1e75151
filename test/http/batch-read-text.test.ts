import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestBackend } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { serviceForSuite } from '../support/suite-service.js';

/**
 * A batch read of whole categories (`category:*`, whose records the SQLite store splices into the
 * response as their stored text) answers byte for byte what `JSON.stringify` writes for the
 * response object, when the entity values, the features and the compute id hold text that is
 * easy to get wrong: quotes, backslashes, control characters, U+2028, non-ASCII, surrogate
 * pairs, canonically equivalent spellings (which must stay distinct keys), values that look like
 * numbers. Values appear more than once and next to values that have no record.
 *
 * On SQLite the fast path answers from the stored text without record objects
 * (`readFeaturesBatchText`, batch-text-json.ts); with CORS configured the fast paths are off and
 * Fastify's route answers through records (`batchReadJson`): the suite runs both ways there.
 * test/http/batch-text-json.test.ts compares the two paths on one store.
 */

const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
const T0 = '2025-10-16T10:00:00.000Z';
const T1 = '2025-10-16T10:05:00.000Z';
const BATCH = '/api/v1/get/items/batch';

const FEATURES: Record<string, unknown> = {
  z: 1,
  '10': 'ten',
  ['__proto__']: { nested: [1, '}'] },
  text: 'line\nbreak "quoted" \\ back \u2028 \u0007 é 😀 ,}]',
  tab: '\t',
  big: 9007199254740991,
  tiny: 5e-324,
  neg: -0.5,
  empty: {},
  list: [],
  nothing: null,
  'ключ "x"': 'значение',
};

let counter = 0;
/** A fresh entity value ending in `suffix` (unique per run, so suites may share a store). */
const uid = (suffix: string): string => `text-${process.pid}-${Date.now()}-${++counter}-${suffix}`;

/** Turns the fast paths off (README, "Hot requests in front of Fastify"): Fastify's route answers. */
const ROUTE_ONLY = { CORS_ORIGINS: 'https://app.example.com' };

function textSuite(backend: TestBackend, env: Record<string, string>, path: string): void {
  describe(`batch read of whole categories byte for byte: ${backend.name}, ${path}`, () => {
    const { http, time } = serviceForSuite(backend, env);

    test('entity values, features and compute ids with escapes and non-ASCII text; duplicates and missing values in one request', async () => {
      const suffixes = ['quote"d', 'back\\slash', 'é', 'e\u0301', '😀', 'sep\u2028line', 'tab\there', ' 12 ', '{"json":1}'];
      const values = suffixes.map(uid);
      const computeId = 'job "ü" \\ 😀';
      for (const [i, value] of values.entries()) {
        time.set(T0);
        const write = await http.post('/api/v1/items', {
          meta: { source: 'prediction_service', compute_id: computeId },
          data: { entity_type: 'bright_uid', entity_value: value, category: CAT, features: { ...FEATURES, i } },
        });
        assert.equal(write.status, 200, write.text);
        if (i % 3 !== 0) continue;
        time.set(T1);
        const second = await http.post('/api/v1/items', {
          meta: { source: 'prediction_service' },
          data: { entity_type: 'bright_uid', entity_value: value, category: CAT2, features: { score: i / 7, name: value } },
        });
        assert.equal(second.status, 200, second.text);
      }
      const missing = [uid('none'), uid('é')];
      const asked = [values[3], missing[0], ...values, values[3], missing[1], values[0]] as string[];

      const record = (value: string, category: string): Record<string, unknown> => {
        const i = values.indexOf(value);
        return category === CAT
          ? { bright_uid: value, category, features: { data: { ...FEATURES, i }, meta: { created_at: T0, updated_at: T0, compute_id: computeId } } }
          : { bright_uid: value, category, features: { data: { score: i / 7, name: value }, meta: { created_at: T1, updated_at: T1, compute_id: null } } };
      };
      const expected = (categories: string[]): string =>
        JSON.stringify({
          entity_type: 'bright_uid',
          results: asked.map((value) => {
            const i = values.indexOf(value);
            const found = categories.filter((c) => i >= 0 && (c === CAT || i % 3 === 0));
            return {
              entity_value: value,
              items: Object.fromEntries(found.map((c) => [c, record(value, c)])),
              unavailable_feature_categories: categories.filter((c) => !found.includes(c)),
            };
          }),
        });

      for (const categories of [[CAT], [CAT, CAT2], [CAT2, CAT]]) {
        const res = await http.post(BATCH, {
          meta: { source: 'ranking-service' },
          data: { entity_type: 'bright_uid', entity_values: asked, feature_list: categories.map((c) => `${c}:*`) },
        });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.text, expected(categories));
        assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(res.text)));
      }
    });
  });
}

for (const backend of BACKENDS) {
  textSuite(backend, {}, 'fast path');
  if (backend.type === 'sqlite') textSuite(backend, ROUTE_ONLY, "Fastify's route");
}
