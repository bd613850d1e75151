import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CsvParser, type CsvRecord } from '../../src/bulk/csv.js';
import { createProgress } from '../../src/bulk/progress.js';
import { cellValue } from '../../src/bulk/records.js';

/** The RFC 4180 parser fed in chunks of every size, the CSV cell typing, and the progress lines. */
function parse(text: string, chunk: number): CsvRecord[] {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += chunk) out.push(...parser.push(text.slice(i, i + chunk)));
  return [...out, ...parser.end()];
}

describe('CSV parser', () => {
  const text = 'a,b,c\r\n"x, y","say ""hi""",\r\n\r\n"multi\r\nline",2,""\nlast,"",3';
  const expected = [
    { line: 1, fields: ['a', 'b', 'c'] },
    { line: 2, fields: ['x, y', 'say "hi"', ''] },
    { line: 4, fields: ['multi\r\nline', '2', ''] },
    { line: 6, fields: ['last', '', '3'] },
  ];

  test('the same records and line numbers whatever the chunk size', () => {
    for (let chunk = 1; chunk <= text.length; chunk++) {
      const records = parse(text, chunk);
      assert.deepEqual(records.map((r) => ({ line: r.line, fields: r.fields })), expected, `chunk ${chunk}`);
      assert.ok(records.every((r) => r.error === undefined), 'records.every((r) => r.error === undefined)');
    }
  });

  test('a quoted empty field is told from an empty one', () => {
    const [record] = parse('"",\n', 4);
    assert.deepEqual(record?.quoted, [true, false]);
  });

  test('malformed records carry an error and parsing goes on', () => {
    const records = parse('a"b,c\n"x"y,z\nok,1\n"open', 3);
    assert.match(records[0]?.error ?? '', /a quote inside an unquoted field \(column 1\)/);
    assert.match(records[1]?.error ?? '', /text after the closing quote of column 1/);
    assert.deepEqual(records[2], { line: 3, fields: ['ok', '1'], quoted: [false, false] });
    assert.match(records[3]?.error ?? '', /not closed before the end/);
  });
});

describe('CSV cell typing', () => {
  test('JSON literals, numbers, objects, arrays and JSON strings are typed; other text stays text', () => {
    const cases: [string, boolean, unknown][] = [
      ['null', false, { value: null }],
      ['true', false, { value: true }],
      ['false', false, { value: false }],
      ['-0.5e2', false, { value: -50 }],
      ['007', false, { value: '007' }],
      ['{"a":[1]}', true, { value: { a: [1] } }],
      ['"42"', true, { value: '42' }],
      ['', false, undefined],
      ['', true, { value: '' }],
      ['True', false, { value: 'True' }],
    ];
    for (const [cell, quoted, expected] of cases) assert.deepEqual(cellValue(cell, quoted), expected, cell);
    assert.throws(() => cellValue('{bad', false), /a cell starting with \{ must be JSON/);
  });
});

describe('import progress', () => {
  test('plain lines at most every interval, with rate, share and ETA', () => {
    let t = 0;
    const lines: string[] = [];
    const progress = createProgress({ tty: false, write: (s) => lines.push(s), intervalMs: 5000, now: () => t });
    const state = { done: 0, imported: 0, failed: 0, bytesRead: 0, totalBytes: 1000 };
    t = 1000;
    progress.update({ ...state, done: 10, imported: 10 });
    assert.deepEqual(lines, []);
    t = 10_000;
    progress.update({ ...state, done: 1000, imported: 990, failed: 10, bytesRead: 250 });
    assert.deepEqual(lines, ['import: 1000 records (990 imported, 10 failed), 100/s, 25%, ETA 0:30\n']);
  });

  test('on a terminal a bar redrawn in place', () => {
    let t = 0;
    const out: string[] = [];
    const progress = createProgress({ tty: true, write: (s) => out.push(s), now: () => t });
    t = 2000;
    const state = { done: 500, imported: 500, failed: 0, bytesRead: 500, totalBytes: 1000 };
    progress.update(state);
    progress.finish(state);
    assert.equal(out[0], '\r\x1b[K[############------------]  50% 500 records (500 imported, 0 failed), 250/s ETA 0:02');
    assert.ok(out[1]?.endsWith('\n'), `out[1]?.endsWith('\\n')`);
  });
});
