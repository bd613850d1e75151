import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonErrorOffset, scanJson } from '../../src/http/json-scanner.js';

test('the offset of the first JSON syntax error, as Python json reports it', () => {
  const cases: [string, number][] = [
    ['{"meta": {"source": }', 20],
    ['{"a":NaN}', 5],
    ['{"a":1', 6],
    ['{"a" 1}', 5],
    ['[1,]', 3],
    ['{"a":1}x', 7],
    ['"abc', 4],
    ['{"a":tru}', 8],
    ['{"a":-}', 5],
    ['{"a":"\\q"}', 6],
    ['', 0],
    ['{,}', 1],
  ];
  for (const [text, offset] of cases) {
    assert.throws(() => JSON.parse(text) as unknown);
    assert.equal(jsonErrorOffset(text), offset, text);
  }
});

test('hostile nesting and long input are scanned in bounded stack', () => {
  assert.equal(jsonErrorOffset('['.repeat(1_000_000)), 1_000_000);
  assert.equal(jsonErrorOffset(`${'{"a":'.repeat(200_000)}1${'}'.repeat(199_999)}]`), 200_000 * 5 + 1 + 199_999);
  const many = `[${Array.from({ length: 100_000 }, (_, i) => i).join(',')},]`;
  assert.equal(jsonErrorOffset(many), many.length - 1);
});

test('scanJson reports valid text and every number token with its path', () => {
  const seen: [string, unknown[]][] = [];
  const text = '{"a":[1,{"b":-2.5e-3}],"c\\"d":"7","e":{},"f":[],"g":0}';
  assert.equal(scanJson(text, (token, path) => seen.push([token, path()])), undefined);
  assert.deepEqual(seen, [
    ['1', ['a', 0]],
    ['-2.5e-3', ['a', 1, 'b']],
    ['0', ['g']],
  ]);
});
