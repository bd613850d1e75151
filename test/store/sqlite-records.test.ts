import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { WriteRecordInput } from '../../src/store/ports.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';
import { prepareTable } from '../../src/store/sqlite/statements.js';
import { outboxEvent } from '../support/fixtures.js';
import { insertRawOutboxEvent } from '../support/sqlite-backend.js';

/** What the SQLite backend guarantees beyond the universal contract (which allows `undefined` metadata). */

const dir = mkdtempSync(join(tmpdir(), 'feature-store-records-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TABLES = { bright_uid: 'user_feature_store' };
const T0 = '2025-10-16T10:00:00.000Z';
const T1 = '2025-10-16T10:05:00.000Z';

function key(entityValue: string) {
  return { entityType: 'bright_uid', entityValue, category: 'd0_unauth_features' };
}

function write(entityValue: string, overrides: Partial<WriteRecordInput> = {}): WriteRecordInput {
  return { key: key(entityValue), data: { a: 1 }, computeId: null, now: T0, ...overrides };
}

test('writes report created and created_at exactly, also for writes in the same batch and the same millisecond', async () => {
  const store = await openSqliteStore({ path: join(dir, 'created.db'), entityTables: TABLES });
  try {
    const results = await Promise.all([store.writeRecord(write('x')), store.writeRecord(write('x')), store.writeRecord(write('y'))]);
    assert.deepEqual(
      results.map((r) => (r.outcome === 'applied' ? [r.meta.created, r.meta.created_at] : r.outcome)),
      [
        [true, T0],
        [false, T0],
        [true, T0],
      ],
    );
    assert.deepEqual(await store.writeRecord(write('x', { now: T1, eventTime: T0, computeId: 'j' })), {
      outcome: 'applied',
      meta: { created_at: T0, created: false, updated_at: T1, compute_id: 'j', event_time: T0 },
    });
  } finally {
    await store.close();
  }
});

test('a delete queued between writes of the same turn is applied in arrival order', async () => {
  const store = await openSqliteStore({ path: join(dir, 'order.db'), entityTables: TABLES });
  try {
    const first = store.writeRecord(write('x', { data: { v: 1 } }));
    const deleted = store.deleteRecord({ key: key('x'), now: T1, event: (r) => outboxEvent(r.entityValue, { features: Object.keys(r.data) }) });
    const second = store.writeRecord(write('x', { now: T1, data: { v: 2 } }));
    const [, record, last] = await Promise.all([first, deleted, second]);
    assert.deepEqual(record?.data, { v: 1 });
    assert.ok(last.outcome === 'applied' && last.meta.created === true && last.meta.created_at === T1, `last.outcome === 'applied' && last.meta.created === true && last.meta.created_at === T1`);
    assert.deepEqual((await store.getRecords([key('x')]))[0]?.data, { v: 2 });
    assert.equal((await store.outbox.stats()).pending, 1);
  } finally {
    await store.close();
  }
});

test('batch reads use the primary key, one query per entity table', () => {
  const db = new Database(join(dir, 'plan.db'));
  try {
    db.exec(`CREATE TABLE t (entity_value TEXT NOT NULL, category TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL, compute_id TEXT, event_time TEXT, compute_history TEXT, expires_at TEXT, PRIMARY KEY (entity_value, category)) WITHOUT ROWID;
      CREATE INDEX t_by_compute_id ON t (compute_id, category)`);
    const statements = prepareTable(db, 't');
    for (const [source, params] of [
      [statements.getMany.source, ['[]']],
      [statements.getValues.source, ['[]', 'x']],
    ] as const) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...params) as { detail: string }[];
      assert.ok(plan.some((p) => p.detail.startsWith('SEARCH r USING PRIMARY KEY (entity_value=? AND category=?)')), JSON.stringify(plan));
      assert.ok(!plan.some((p) => p.detail.startsWith('SCAN r')), JSON.stringify(plan));
    }
  } finally {
    db.close();
  }
});

test('a batch read of 40,000 keys, past SQLite\'s 32,766 bound parameters, is answered aligned (the key list is one JSON parameter)', async () => {
  const store = await openSqliteStore({ path: join(dir, 'wide.db'), entityTables: TABLES });
  try {
    for (let i = 0; i < 100; i++) await store.writeRecord(write(`w${i * 400}`, { data: { i } }));
    const keys = Array.from({ length: 40_000 }, (_, i) => key(`w${i}`));
    const records = await store.getRecords(keys);
    assert.equal(records.length, keys.length);
    records.forEach((r, i) => assert.deepEqual(r?.data, i % 400 === 0 ? { i: i / 400 } : undefined, `key ${i}`));
  } finally {
    await store.close();
  }
});

test('a merge write stores its expiry like a write: swept once due, kept when the merge gives none', async () => {
  const store = await openSqliteStore({ path: join(dir, 'merge-expiry.db'), entityTables: TABLES });
  try {
    const merge = (entityValue: string, expiresAt?: string) =>
      store.mergeRecord({ key: key(entityValue), set: { a: 1 }, remove: [], computeId: null, now: T0, expiresAt });
    await merge('due', T0);
    await merge('kept', T0);
    await merge('kept'); // a later merge without a TTL clears the expiry
    assert.equal(await store.sweeper.sweepExpired({ now: T1, limit: 10 }), 1);
    assert.deepEqual((await store.getRecords([key('due'), key('kept')])).map((r) => r?.data), [undefined, { a: 1 }]);
  } finally {
    await store.close();
  }
});

test('a version-2 database migrates to the current version keeping its records and pending events', async () => {
  const path = join(dir, 'v2.db');
  const db = new Database(path);
  db.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, msg_key TEXT NOT NULL, payload TEXT NOT NULL,
      created_at TEXT NOT NULL, lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE user_feature_store (entity_value TEXT NOT NULL, category TEXT NOT NULL, data TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, compute_id TEXT, PRIMARY KEY (entity_value, category)) WITHOUT ROWID;
    CREATE TABLE retired_feature_store (entity_value TEXT NOT NULL, category TEXT NOT NULL, data TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, compute_id TEXT, PRIMARY KEY (entity_value, category)) WITHOUT ROWID`);
  db.prepare('INSERT INTO user_feature_store VALUES (?, ?, ?, ?, ?, ?)').run('old', 'd0_unauth_features', '{"a":1}', T0, T0, 'job');
  const pending = outboxEvent('old');
  insertRawOutboxEvent(db, pending);
  db.pragma('user_version = 2');
  db.close();

  const store = await openSqliteStore({ path, entityTables: TABLES });
  try {
    assert.deepEqual((await store.getRecords([key('old')]))[0], {
      ...key('old'),
      data: { a: 1 },
      meta: { created_at: T0, updated_at: T0, compute_id: 'job' },
    });
    assert.deepEqual(await store.outbox.claim('relay', 10, 30_000), [pending]);
    assert.equal((await store.writeRecord(write('old', { eventTime: T1, now: T1 }))).outcome, 'applied');
    assert.deepEqual(await store.writeRecord(write('old', { eventTime: T0, now: T1 })), { outcome: 'stale', storedEventTime: T1 });
  } finally {
    await store.close();
  }
  const check = new Database(path, { readonly: true });
  try {
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    // Entity tables that are not configured now are migrated too.
    const cols = (check.pragma('table_info(retired_feature_store)') as { name: string }[]).map((c) => c.name);
    assert.ok(cols.includes('event_time'), `cols.includes('event_time')`);
  } finally {
    check.close();
  }
});

test('reads on the calling thread see every acknowledged write and fail like getRecords once the store is closed', async () => {
  const store = await openSqliteStore({ path: join(dir, 'now.db'), entityTables: TABLES });
  const pending = store.writeRecord(write('n', { data: { v: 1 } }));
  assert.deepEqual(store.getRecordsNow([key('n')]), [undefined], 'not before its commit');
  await pending;
  assert.deepEqual(store.getRecordsNow([key('n')])[0]?.data, { v: 1 });
  await store.close();
  assert.throws(() => store.getRecordsNow([key('n')]), { name: 'StoreUnavailableError' });
  await assert.rejects(store.getRecords([key('n')]), { name: 'StoreUnavailableError' });
});
