import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectFeatures } from '../../src/service/feature-selection.js';
import { pickFeatures } from '../../src/service/feature-text.js';
import { recordDataText, recordFromText, type FeatureMap, type JsonValue } from '../../src/model.js';

/**
 * Picking features from the stored text gives the bytes `JSON.stringify` gives for the parsed
 * map narrowed as `selectFeatures` narrows it (a null-prototype object filled in the order of
 * the selection), for values whose text is easy to get wrong.
 */

const TRICKY: FeatureMap = {
  z: 1,
  '10': 'ten',
  '2': 'two',
  ['__proto__']: 0.1,
  tiny: 1.2345678901234568e-7,
  big: 1e21,
  small: 5e-324,
  neg: -0.5,
  zero: -0,
  text: 'line\nbreak "quoted" \\ back \u2028 \u2029 é 😀 \ud800 ,}]',
  slashes: 'ends with a backslash \\',
  quote: '"',
  'key "quoted" \\ ,:}': [1, '}', { '"': ']' }],
  nested: { b: [1, { a: null, c: '{[' }], a: true },
  empty: {},
  list: [],
  none: null,
  no: false,
};

function reference(map: FeatureMap, names: ReadonlySet<string>): string {
  const parsed = JSON.parse(JSON.stringify(map)) as FeatureMap;
  const out = Object.create(null) as FeatureMap;
  for (const name of names) if (Object.hasOwn(parsed, name)) out[name] = parsed[name] as JsonValue;
  return JSON.stringify(out);
}

const nonIndexNames = Object.keys(TRICKY).filter((k) => !/^\d+$/.test(k));

test('picked features are byte for byte JSON.stringify of the narrowed map', () => {
  const text = JSON.stringify(TRICKY);
  const selections: string[][] = [
    [],
    ['missing'],
    ['text', 'z'],
    ['__proto__', 'constructor', 'toString'],
    [...nonIndexNames].reverse(),
    nonIndexNames,
    ['no', 'none', 'key "quoted" \\ ,:}', 'nested'],
  ];
  for (let i = 0; i < nonIndexNames.length; i++) selections.push([nonIndexNames[i] as string], nonIndexNames.slice(i));
  for (const names of selections) {
    const set = new Set(names);
    assert.equal(pickFeatures(text, set), reference(TRICKY, set), names.join(' | '));
  }
  const maps: FeatureMap[] = [{}, { a: 1 }, { a: 'x' }, { a: [] }, { a: {} }, { a: '\\' }, { s: 'a', b: 1 }];
  for (const map of maps) {
    assert.equal(pickFeatures(JSON.stringify(map), new Set(['a', 'b'])), reference(map, new Set(['a', 'b'])));
  }
});

test('keys written with escapes are matched by their names, and only as JSON.stringify writes them', () => {
  const map: FeatureMap = { 'back\\slash': 1, plain: 'a value with \\ and "', 'tab\there': 2, '\ud800': 3, after: [4], é: 5, '😀': 6, last: 'x\\' };
  const text = JSON.stringify(map);
  const selections = [['after'], ['tab\there', 'plain'], ['\ud800', 'back\\slash', 'after'], Object.keys(map), ['é', '😀', 'last'], ['last']];
  for (const names of selections) assert.equal(pickFeatures(text, new Set(names)), reference(map, new Set(names)), names.join(' | '));
  // A key spelled with an escape JSON.stringify does not write matches no name (the text is not canonical).
  assert.equal(pickFeatures('{"\\u0061":1,"b":2}', new Set(['a', 'b'])), '{"b":2}');
  assert.equal(pickFeatures('{"\\u0061":1,"b":2}', new Set(['\\u0061'])), '{}');
});

test('an array-index name or a text that is not a map is left to the parse', () => {
  assert.equal(pickFeatures(JSON.stringify(TRICKY), new Set(['z', '10'])), undefined);
  assert.equal(pickFeatures('[1,2]', new Set(['a'])), undefined);
  assert.equal(pickFeatures('{"a":1', new Set(['b'])), undefined);
  assert.equal(pickFeatures('{"a"', new Set(['b'])), undefined);
});

test('selectFeatures narrows a stored record on its text, with the same data as the parse gives', () => {
  const text = JSON.stringify(TRICKY);
  const meta = { created_at: 't', updated_at: 't', compute_id: null };
  const record = recordFromText({ entityType: 'bright_uid', entityValue: 'u', category: 'c', meta }, text);
  const names = new Set(['text', '__proto__', 'nested', 'missing']);
  const picked = selectFeatures(record, names);
  assert.equal(recordDataText(picked), reference(TRICKY, names));
  assert.equal(JSON.stringify(picked.data), reference(TRICKY, names));
  assert.equal(picked.meta, meta);
  const byIndex = selectFeatures(record, new Set(['10', 'z']));
  assert.equal(recordDataText(byIndex), undefined);
  assert.equal(JSON.stringify(byIndex.data), reference(TRICKY, new Set(['10', 'z'])));
});
