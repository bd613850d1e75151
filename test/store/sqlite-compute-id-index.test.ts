import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { migrate, SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';
import { prepareTable } from '../../src/store/sqlite/statements.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-by-compute-id-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const T0 = '2025-10-16T10:00:00.000Z';

test('the by-compute-id queries are ranges of the index, never scans or sorts', () => {
  const db = new Database(join(dir, 'plan.db'));
  try {
    migrate(db, ['t']);
    const s = prepareTable(db, 't');
    for (const [stmt, args] of [
      [s.byComputeId, ['job', '', '', 5]],
      [s.byComputeIdInCategory, ['job', 'c', '', 5]],
    ] as const) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${stmt.source}`).all(...args) as { detail: string }[];
      const details = plan.map((p) => p.detail);
      assert.ok(details.some((d) => d.startsWith('SEARCH t USING INDEX t_by_compute_id (compute_id=?')), JSON.stringify(details));
      assert.ok(!details.some((d) => d.startsWith('SCAN') || d.includes('TEMP B-TREE')), JSON.stringify(details));
    }
  } finally {
    db.close();
  }
});

test('a version-4 database migrates to the current version: every entity table gets the index, and the query finds the old rows', async () => {
  const path = join(dir, 'v4.db');
  const db = new Database(path);
  const table = (name: string) =>
    `CREATE TABLE ${name} (entity_value TEXT NOT NULL, category TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL,
       updated_at TEXT NOT NULL, compute_id TEXT, event_time TEXT, compute_history TEXT, PRIMARY KEY (entity_value, category)) WITHOUT ROWID`;
  db.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, msg_key TEXT NOT NULL, payload TEXT NOT NULL,
      created_at TEXT NOT NULL, lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0);
    ${table('user_feature_store')}; ${table('retired_feature_store')}`);
  const insert = db.prepare('INSERT INTO user_feature_store VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)');
  insert.run('b', 'd0_unauth_features', '{}', T0, T0, 'job');
  insert.run('a', 'd0_unauth_features', '{}', T0, '2025-10-16T10:00:00.123456+00:00', 'job');
  insert.run('c', 'd0_unauth_features', '{}', T0, T0, 'other');
  db.pragma('user_version = 4');
  db.close();

  const store = await openSqliteStore({ path, entityTables: { bright_uid: 'user_feature_store' } });
  try {
    const page = await store.findByComputeId({ entityType: 'bright_uid', computeId: 'job', limit: 10 });
    assert.deepEqual(page, {
      records: [
        { entityType: 'bright_uid', entityValue: 'a', category: 'd0_unauth_features', updatedAt: '2025-10-16T10:00:00.123Z' },
        { entityType: 'bright_uid', entityValue: 'b', category: 'd0_unauth_features', updatedAt: T0 },
      ],
      more: false,
    });
  } finally {
    await store.close();
  }
  const check = new Database(path, { readonly: true });
  try {
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const indexes = check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%_by_compute_id' ORDER BY name").pluck().all();
    assert.deepEqual(indexes, ['retired_feature_store_by_compute_id', 'user_feature_store_by_compute_id']);
  } finally {
    check.close();
  }
});
