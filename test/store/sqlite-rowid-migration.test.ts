import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-rowid-migration-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const T0 = '2025-10-16T10:00:00.000Z';
const T1 = '2025-10-16T11:00:00.000Z';
const D0 = 'd0_unauth_features';

/** A version-8 file (schema.ts's migrations 1–8): entity tables WITHOUT ROWID with the (compute_id, category) index, a kept version. */
function writeVersion8(path: string): void {
  const db = new Database(path);
  db.exec(`CREATE TABLE user_feature_store (entity_value TEXT NOT NULL, category TEXT NOT NULL, data TEXT NOT NULL,
       created_at TEXT NOT NULL, updated_at TEXT NOT NULL, compute_id TEXT, event_time TEXT, compute_history TEXT, expires_at TEXT,
       PRIMARY KEY (entity_value, category)) WITHOUT ROWID;
     CREATE INDEX user_feature_store_by_compute_id ON user_feature_store (compute_id, category);
     CREATE INDEX user_feature_store_expires_at ON user_feature_store (expires_at) WHERE expires_at IS NOT NULL;
     CREATE TABLE record_versions (seq INTEGER PRIMARY KEY, record_table TEXT NOT NULL, record_value TEXT NOT NULL,
       record_category TEXT NOT NULL, data TEXT NOT NULL, compute_id TEXT, event_time TEXT, updated_at TEXT NOT NULL);
     CREATE INDEX record_versions_by_record ON record_versions (record_table, record_value, record_category, seq);
     CREATE TABLE outbox (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, msg_key TEXT NOT NULL, payload TEXT NOT NULL,
       created_at TEXT NOT NULL, lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE compute_jobs (compute_id TEXT NOT NULL PRIMARY KEY, records_written INTEGER NOT NULL,
       first_write_at TEXT NOT NULL, last_write_at TEXT NOT NULL) WITHOUT ROWID;
     CREATE INDEX compute_jobs_by_last_write ON compute_jobs (last_write_at, compute_id);
     CREATE TABLE compute_job_writes (compute_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, writes INTEGER NOT NULL,
       PRIMARY KEY (compute_id, kind, name)) WITHOUT ROWID;
     CREATE TABLE rollbacks (compute_id TEXT PRIMARY KEY, state TEXT NOT NULL, status TEXT NOT NULL, lease_owner TEXT,
       lease_until INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;`);
  const insert = db.prepare('INSERT INTO user_feature_store VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  insert.run('b', D0, '{"x":2}', T0, T1, 'job', '2025-10-16T09:00:00.000Z', '[{"compute_id":"job","timestamp":"2025-10-16T11:00:00.000Z"}]', '2030-01-01T00:00:00.000Z');
  insert.run('a', D0, '{"x":1}', T0, T0, 'job', null, null, null);
  insert.run('c', D0, '{"x":3}', T0, T0, 'other', null, null, null);
  db.prepare('INSERT INTO record_versions (record_table, record_value, record_category, data, compute_id, event_time, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run('user_feature_store', 'b', D0, '{"x":1}', 'earlier-job', null, T0);
  db.pragma('user_version = 8');
  db.close();
}

test('a version-8 file migrates: entity tables become rowid tables and keep their records, versions and by-compute-id order', async () => {
  const path = join(dir, 'v8.db');
  writeVersion8(path);
  const store = await openSqliteStore({ path, entityTables: { bright_uid: 'user_feature_store' } });
  try {
    const [b] = await store.getRecords([{ entityType: 'bright_uid', entityValue: 'b', category: D0 }]);
    assert.deepEqual(b?.data, { x: 2 });
    assert.deepEqual(b?.meta, { created_at: T0, updated_at: T1, compute_id: 'job', event_time: '2025-10-16T09:00:00.000Z' });
    const versions = await store.getVersions({ entityType: 'bright_uid', entityValue: 'b', category: D0 }, 10);
    assert.deepEqual(versions?.earlier, [{ data: { x: 1 }, computeId: 'earlier-job', updatedAt: T0 }]);
    const page = await store.findByComputeId({ entityType: 'bright_uid', computeId: 'job', limit: 10 });
    assert.deepEqual(page.records.map((r) => r.entityValue), ['a', 'b']);
    assert.deepEqual(await store.getComputeHistory({ entityType: 'bright_uid', entityValue: 'b', category: D0 }, 10), [{ compute_id: 'job', timestamp: T1 }]);
    // A write after the migration keeps created_at and the upsert finds the key.
    const written = await store.writeRecord({ key: { entityType: 'bright_uid', entityValue: 'a', category: D0 }, data: { x: 9 }, computeId: 'next', now: T1, versionsKept: 3 });
    assert.equal(written.outcome, 'applied');
    assert.equal(written.outcome === 'applied' ? written.meta.created_at : undefined, T0);
    assert.equal(written.outcome === 'applied' ? written.meta.created : undefined, false);
  } finally {
    await store.close();
  }
  const check = new Database(path, { readonly: true });
  try {
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const sql = check.prepare("SELECT sql FROM sqlite_master WHERE name = 'user_feature_store'").pluck().get() as string;
    assert.ok(!/WITHOUT ROWID/i.test(sql), sql);
    const indexColumns = (name: string) => (check.pragma(`index_info(${name})`) as { name: string }[]).map((c) => c.name);
    assert.deepEqual(indexColumns('user_feature_store_by_compute_id'), ['compute_id', 'category', 'entity_value']);
    assert.deepEqual(indexColumns('user_feature_store_expires_at'), ['expires_at']);
    assert.equal(check.prepare('SELECT count(*) FROM user_feature_store').pluck().get(), 3);
  } finally {
    check.close();
  }
});
