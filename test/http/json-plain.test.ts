import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePlainBatchRead, parsePlainMultiRead } from '../../src/http/json-plain.js';

/**
 * The read bodies' own parser (json-plain.ts) gives `JSON.parse`'s value, with the same keys in
 * the same order, for the text it takes, and takes nothing else: every near miss gives
 * `undefined` (the caller then uses `JSON.parse`). The HTTP answers for the same texts are
 * compared with Fastify's in fast-path.test.ts.
 */

/** Keys in order at every level, and every value: what a caller of either parser can observe. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    return Object.entries(value).map(([k, v]) => [k, shape(v)]);
  }
  return value;
}

const multi = (value: string, list = '["d0_unauth_features:*","ncr_unauth_features:credit_score"]', source = '"bench"') =>
  `{"meta":{"source":${source}},"data":{"entity_type":"bright_uid","entity_value":${value},"feature_list":${list}}}`;
const batch = (values: string, list = '["d0_unauth_features:*"]') => `{"meta":{"source":"bench"},"data":{"entity_type":"bright_uid","entity_values":${values},"feature_list":${list}}}`;

const TAKEN_MULTI = [
  multi('"user-1"'),
  multi('""', '[]', '""'),
  multi('"é😀\u2028\u00a0 __proto__ {}[]:,"', '["a:b"]'),
  multi('"x"', '["","",""]'),
  multi(JSON.stringify('y'.repeat(100_000))),
  // Whitespace between tokens, as Python's json.dumps writes by default (", " and ": ") and
  // as pretty printers do.
  `${multi('"a"')} `,
  ` ${multi('"a"')}`,
  `${multi('"a"')}\n`,
  multi('"a"').replace('{"meta":', '{ "meta":'),
  multi('"a"').replace('"entity_value":', '"entity_value" :'),
  multi('"a"', '["x:y", "z:w"]'),
  multi('"a b"', '[ "x: y" ,\t"z,w" ]'),
  '{"meta": {"source": "svc"}, "data": {"entity_type": "bright_uid", "entity_value": "user-1", "feature_list": ["d0_unauth_features:*", "ncr_unauth_features:credit_score"]}}',
  JSON.stringify(JSON.parse(multi('"a"')), null, 2),
  JSON.stringify(JSON.parse(multi('"a"')), null, '\t').replace(/\n/g, '\r\n'),
];
const TAKEN_BATCH = [
  batch('["user-1"]'),
  batch('[]', '[]'),
  batch('["a","a","é","😀",""]'),
  batch(JSON.stringify(Array.from({ length: 5000 }, (_, i) => `user-${i}`))),
  batch('["a" ,"b"]'),
  batch('[ ]', '[\n]'),
  batch('["a", "b",\n  "c"]', '[ "d0:*" ]'),
  JSON.stringify(JSON.parse(batch('["a","b"]')), null, 4),
];

const NEAR_MISSES = [
  '',
  ' ',
  '\u00a0' + multi('"a"'),
  multi('"a"').replace('{"meta":', '{\u00a0"meta":'),
  multi('"a"').replace('{"meta":', '{\f"meta":'),
  multi('"a"', '["x:y",\u2028"z:w"]'),
  'null',
  '{}',
  `${multi('"a"')}x`,
  multi('"a"').slice(0, -1),
  multi('"a\\"b"'),
  multi('"a\\\\b"'),
  multi('"\\u00e9"'),
  multi('"\\ud800"'),
  multi('"tab\there"'),
  multi('"nul\u0000"'),
  multi('5'),
  multi('null'),
  multi('true'),
  multi('["a"]'),
  multi('"a"', '[1]'),
  multi('"a"', '["x:y",]'),
  multi('"a"', '[,"x:y"]'),
  multi('"a"', '"x:y"'),
  multi('"a"', '["x:y"', '"s"'),
  multi('"a"', '["x:y"]', '1e-400'),
  multi('"a"').replace('"entity_value"', '"extra":"1","entity_value"'),
  multi('"a"').replace('"entity_value"', '"entity_value":"b","entity_value"'),
  multi('"a"').slice(0, -1) + ',"data":{}}',
  multi('"a"').replace('"meta"', '"__proto__"'),
  `{"data":{"entity_type":"bright_uid","entity_value":"a","feature_list":[]},"meta":{"source":"bench"}}`,
  batch('"a"'),
  batch('["a",1]'),
  batch('["a","b\\"c"]'),
];

test('the read bodies as clients write them: the value JSON.parse gives, keys in the same order', () => {
  for (const text of TAKEN_MULTI) {
    const value = parsePlainMultiRead(text);
    assert.notEqual(value, undefined, text.slice(0, 200));
    assert.deepEqual(shape(value), shape(JSON.parse(text)));
    assert.equal(parsePlainBatchRead(text), undefined, 'a multi-read body is not a batch body');
  }
  for (const text of TAKEN_BATCH) {
    const value = parsePlainBatchRead(text);
    assert.notEqual(value, undefined, text.slice(0, 200));
    assert.deepEqual(shape(value), shape(JSON.parse(text)));
    assert.equal(parsePlainMultiRead(text), undefined, 'a batch body is not a multi-read body');
  }
});

test('every near miss is left to JSON.parse', () => {
  for (const text of NEAR_MISSES) {
    assert.equal(parsePlainMultiRead(text), undefined, text);
    assert.equal(parsePlainBatchRead(text), undefined, text);
  }
});

test('a megabyte that fails at its end is refused (the expression has no nested choice to backtrack through)', () => {
  const values = Array.from({ length: 60_000 }, (_, i) => `"v${i}"`).join(',');
  assert.equal(parsePlainBatchRead(batch(`[${values}`).slice(0, -3)), undefined);
  assert.equal(parsePlainBatchRead(`${batch(`[${values}]`).slice(0, -2)}x}}`), undefined);
  assert.notEqual(parsePlainBatchRead(batch(`[${values}]`)), undefined);
});

test('a megabyte of whitespace before a mismatch is refused in linear time (no two whitespace patterns in a row)', () => {
  const spaces = ' '.repeat(1_000_000);
  // Each would take hours with two adjacent whitespace patterns splitting the run.
  assert.equal(parsePlainBatchRead(`{"meta":{"source":"s"}${spaces},${spaces}x`), undefined);
  assert.equal(parsePlainBatchRead(`${batch('["a"]').slice(0, -2)}${spaces}}${spaces}}${spaces}x`), undefined);
  assert.equal(parsePlainMultiRead(`${spaces}${multi('"a"')}${spaces}!`), undefined);
  assert.notEqual(parsePlainMultiRead(`${spaces}${multi('"a"')}${spaces}`), undefined);
});
