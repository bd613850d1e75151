import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { RecordKey } from '../../src/store/ports.js';
import { gridCategories } from '../../src/store/sqlite/batch-read.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-batch-read-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const T0 = '2025-10-16T10:00:00.000Z';
const key = (entityValue: string, category: string, entityType = 'bright_uid'): RecordKey => ({ entityType, entityValue, category });

test('grid detection: each value followed by the same categories in the same order, else no grid', () => {
  assert.deepEqual(gridCategories([key('a', 'x'), key('a', 'y'), key('b', 'x'), key('b', 'y')]), ['x', 'y']);
  assert.deepEqual(gridCategories([key('a', 'x'), key('b', 'x'), key('a', 'x')]), ['x']);
  assert.deepEqual(gridCategories([key('a', 'x'), key('a', 'y'), key('a', 'x'), key('a', 'y')]), ['x', 'y', 'x', 'y']);
  assert.equal(gridCategories([key('a', 'x'), key('a', 'y'), key('b', 'y'), key('b', 'x')]), undefined);
  assert.equal(gridCategories([key('a', 'x'), key('a', 'y'), key('b', 'x')]), undefined);
  assert.equal(gridCategories([key('a', 'x'), key('a', 'y'), key('b', 'x'), key('c', 'y')]), undefined);
  assert.equal(gridCategories([]), undefined);
});

test('grid and non-grid key lists read the same records, aligned to the keys, duplicates at each place', async () => {
  const store = await openSqliteStore({ path: join(dir, 'grid.db'), entityTables: { bright_uid: 'users', account_pid: 'accounts' } });
  try {
    for (const [entityValue, category, entityType] of [
      ['a', 'x', 'bright_uid'],
      ['a', 'y', 'bright_uid'],
      ['b', 'y', 'bright_uid'],
      ['12', 'x', 'bright_uid'],
      ['a', 'x', 'account_pid'],
    ] as const) {
      await store.writeRecord({ key: key(entityValue, category, entityType), data: { v: `${entityType}/${entityValue}/${category}` }, computeId: null, now: T0 });
    }
    const found = async (keys: RecordKey[]) => (await store.getRecords(keys)).map((r) => (r === undefined ? null : r.data.v));
    const grid = [key('a', 'x'), key('a', 'y'), key('b', 'x'), key('b', 'y'), key('12', 'x'), key('12', 'y'), key('a', 'x'), key('a', 'y')];
    assert.deepEqual(await found(grid), ['bright_uid/a/x', 'bright_uid/a/y', null, 'bright_uid/b/y', 'bright_uid/12/x', null, 'bright_uid/a/x', 'bright_uid/a/y']);
    const mixed = [key('b', 'y'), key('a', 'x', 'account_pid'), key('a', 'x'), key('zz', 'x'), key('a', 'y', 'account_pid')];
    assert.deepEqual(await found(mixed), ['bright_uid/b/y', 'account_pid/a/x', 'bright_uid/a/x', null, null]);
  } finally {
    await store.close();
  }
});
