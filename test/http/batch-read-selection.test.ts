import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestBackend } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { serviceForSuite } from '../support/suite-service.js';

/**
 * A feature selection (`category:name`) in batch and multi-reads is answered byte for byte as
 * `JSON.stringify` writes the record narrowed to the selection, in the selection's order, for
 * values whose text is easy to get wrong. (A store that reads records from their JSON text has
 * them picked from the text, see src/service/feature-text.ts; the bytes must not differ.)
 */

const CAT = 'd0_unauth_features';
const T0 = '2025-10-16T10:00:00.000Z';
const TRICKY: Record<string, unknown> = {
  z: 1,
  '10': 'ten',
  '2': 'two',
  ['__proto__']: 0.1,
  tiny: 1.2345678901234568e-7,
  big: 9007199254740991,
  small: 5e-324,
  neg: -0.5,
  text: 'line\nbreak "quoted" \\ back \u2028 é 😀 ,}]',
  slash: 'ends in \\',
  'key "quoted" ,:}': [1, '}', { '"': ']' }],
  nested: { b: [1, { a: null }], a: true },
  empty: {},
};

let counter = 0;
const uid = (): string => `sel-${process.pid}-${Date.now()}-${++counter}`;

/** The features of `names` in order, as a null-prototype object (as the service narrows). */
function narrowed(names: string[]): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const name of names) if (Object.hasOwn(TRICKY, name)) out[name] = TRICKY[name];
  return out;
}

function selectionSuite(backend: TestBackend): void {
  describe(`feature selections byte for byte: ${backend.name}`, () => {
    const { http, time } = serviceForSuite(backend);

    test('batch and multi-read of named features, with and without array-index names', async () => {
      time.set(T0);
      const [a, b] = [uid(), uid()];
      for (const value of [a, b]) {
        const res = await http.post('/api/v1/items', { meta: { source: 'prediction_service', compute_id: 'job-s' }, data: { entity_type: 'bright_uid', entity_value: value, category: CAT, features: TRICKY } });
        assert.equal(res.status, 200, res.text);
      }
      const selections = [
        ['text', '__proto__', 'missing', 'key "quoted" ,:}', 'slash', 'nested', 'z'],
        ['big', 'small', 'tiny', 'neg', 'empty', 'constructor'],
        ['z', '10', 'text', '2'],
      ];
      for (const names of selections) {
        const featureList = names.map((n) => `${CAT}:${n}`);
        const record = (value: string) => ({ bright_uid: value, category: CAT, features: { data: narrowed(names), meta: { created_at: T0, updated_at: T0, compute_id: 'job-s' } } });
        const batch = await http.post('/api/v1/get/items/batch', { meta: { source: 'ranking-service' }, data: { entity_type: 'bright_uid', entity_values: [a, b], feature_list: featureList } });
        assert.equal(batch.status, 200, batch.text);
        assert.equal(
          batch.text,
          JSON.stringify({
            entity_type: 'bright_uid',
            results: [a, b].map((value) => ({ entity_value: value, items: { [CAT]: record(value) }, unavailable_feature_categories: [] })),
          }),
        );
        const one = await http.post('/api/v1/get/items', { meta: { source: 'ranking-service' }, data: { entity_type: 'bright_uid', entity_value: a, feature_list: featureList } });
        assert.equal(one.text, JSON.stringify({ entity_value: a, entity_type: 'bright_uid', items: { [CAT]: record(a) }, unavailable_feature_categories: [] }));
      }
    });
  });
}

for (const backend of BACKENDS) selectionSuite(backend);
