import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { FeatureRecord } from '../../src/model.js';
import type { RecordKey } from '../../src/store/ports.js';
import { ENTITY_READ_MAX_CATEGORIES, EntityReads } from '../../src/store/sqlite/entity-read.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-entity-read-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const T0 = '2025-10-16T10:00:00.000Z';
const key = (entityValue: string, category: string, entityType = 'bright_uid'): RecordKey => ({ entityType, entityValue, category });
const shown = (r: FeatureRecord | undefined) => (r === undefined ? null : [r.entityType, r.entityValue, r.category, r.data, r.meta]);

test('one statement reads a few categories of one entity; other key lists go to the batch read', () => {
  assert.equal(EntityReads.fits([key('a', 'x')]), true);
  assert.equal(EntityReads.fits([key('a', 'x'), key('a', 'y'), key('a', 'x')]), true);
  assert.equal(EntityReads.fits([key('a', 'x'), key('b', 'x')]), false);
  assert.equal(EntityReads.fits([]), false);
  const many = Array.from({ length: ENTITY_READ_MAX_CATEGORIES + 1 }, (_, i) => key('a', `c${i}`));
  assert.equal(EntityReads.fits(many.slice(0, ENTITY_READ_MAX_CATEGORIES)), true);
  assert.equal(EntityReads.fits(many), false);
});

test('categories of one entity read as each point read reads them, aligned to the keys, for every count of categories', async () => {
  const store = await openSqliteStore({ path: join(dir, 'entity.db'), entityTables: { bright_uid: 'users', account_pid: 'accounts' } });
  try {
    const categories = Array.from({ length: ENTITY_READ_MAX_CATEGORIES + 2 }, (_, i) => `c${i}`);
    // Every other category stored, one with an event time, and the same keys under another entity value and type.
    for (const [i, category] of categories.entries()) {
      if (i % 2 === 1) continue;
      const eventTime = i === 2 ? '2025-10-16T09:00:00.000Z' : undefined;
      await store.writeRecord({ key: key('a', category), data: { v: `a/${category}`, 'quote"\\': [i, { é: '\u2028' }] }, computeId: i === 0 ? null : `job-${i}`, now: T0, eventTime });
      await store.writeRecord({ key: key('b', category), data: { v: `b/${category}` }, computeId: null, now: T0 });
      await store.writeRecord({ key: key('a', category, 'account_pid'), data: { v: `account/${category}` }, computeId: null, now: T0 });
    }
    const one = async (k: RecordKey) => shown((await store.getRecords([k]))[0]);
    for (let n = 1; n <= categories.length; n++) {
      const keys = categories.slice(0, n).map((c) => key('a', c));
      const expected = await Promise.all(keys.map(one));
      assert.deepEqual((await store.getRecords(keys)).map(shown), expected, `${n} categories`);
      assert.deepEqual(store.getRecordsNow(keys).map(shown), expected, `${n} categories, now`);
      const reversed = [...keys].reverse();
      assert.deepEqual((await store.getRecords(reversed)).map(shown), [...expected].reverse(), `${n} categories reversed`);
    }
    const duplicates = [key('a', 'c0'), key('a', 'c1'), key('a', 'c0'), key('a', 'c2')];
    assert.deepEqual((await store.getRecords(duplicates)).map((r) => r?.data.v ?? null), ['a/c0', null, 'a/c0', 'a/c2']);
    assert.deepEqual((await store.getRecords([key('zz', 'c0'), key('zz', 'c2')])).map(shown), [null, null]);
  } finally {
    await store.close();
  }
});
