import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonErrorOffset } from '../../src/http/json-error-offset.js';

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
