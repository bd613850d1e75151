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

test('categories of one entity read as stored text answer as the records do: counts, order, duplicates, categories between the asked ones', async () => {
  const store = await openSqliteStore({ path: join(dir, 'entity-text.db'), entityTables: { bright_uid: 'users', account_pid: 'accounts' } });
  try {
    // Names whose UTF-16 order (JavaScript's) and UTF-8 order (SQLite's) differ: U+FFFD sorts
    // before an astral character in UTF-16's surrogates and after it in UTF-8.
    const categories = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'x\ufffd', 'x😀', 'é'];
    for (const [i, category] of categories.entries()) {
      if (i % 2 === 1 && i < 10) continue;
      const eventTime = i === 2 ? '2025-10-16T09:00:00.000Z' : undefined;
      const computeId = i === 0 ? null : i === 4 ? 'job "4"\n' : `job-${i}`;
      await store.writeRecord({ key: key('a', category), data: { v: `a/${category}`, 'quote"\\': [i, { é: '\u2028' }] }, computeId, now: T0, eventTime });
      await store.writeRecord({ key: key('a0', category), data: { v: `a0/${category}` }, computeId: null, now: T0 });
    }
    const asText = (r: FeatureRecord | undefined) => (r === undefined ? undefined : { data: JSON.stringify(r.data), meta: JSON.stringify(r.meta) });
    const check = (keys: RecordKey[], label: string) => assert.deepEqual(store.getStoredNow(keys), store.getRecordsNow(keys).map(asText), label);
    for (let n = 1; n <= ENTITY_READ_MAX_CATEGORIES; n++) {
      for (let from = 0; from + n <= categories.length; from++) {
        const keys = categories.slice(from, from + n).map((c) => key('a', c));
        check(keys, `${n} from ${from}`);
        check([...keys].reverse(), `${n} from ${from}, reversed`);
      }
    }
    // Stored categories between the asked ones are not answered; the asked ones are, each at its place.
    const between = store.getStoredNow([key('a', 'c8'), key('a', 'c0')]);
    assert.deepEqual(between.map((s) => (s === undefined ? null : (JSON.parse(s.data) as { v: string }).v)), ['a/c8', 'a/c0']);
    check([key('a', 'c0'), key('a', 'c1'), key('a', 'c0'), key('a', 'c2')], 'duplicates');
    check([key('a', 'x😀'), key('a', 'x\ufffd'), key('a', 'é')], 'UTF-8 and UTF-16 orders');
    check([key('a', 'c0'), key('a', 'x😀', 'account_pid')], 'two types');
    check([key('zz', 'c0'), key('zz', 'c2')], 'no entity');
  } finally {
    await store.close();
  }
});
