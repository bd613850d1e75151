import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const T0 = '2025-10-16T10:00:00.000Z';
const T1 = '2025-10-16T10:05:00.000Z';
const key = { entityType: 'bright_uid', entityValue: 'old', category: 'd0_unauth_features' };

test('a version-3 database migrates to the current version: every entity table gets compute_history, records keep everything else', async () => {
  const path = join(dir, 'v3.db');
  const db = new Database(path);
  const table = (name: string) =>
    `CREATE TABLE ${name} (entity_value TEXT NOT NULL, category TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL,
       updated_at TEXT NOT NULL, compute_id TEXT, event_time TEXT, PRIMARY KEY (entity_value, category)) WITHOUT ROWID`;
  db.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, msg_key TEXT NOT NULL, payload TEXT NOT NULL,
      created_at TEXT NOT NULL, lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0);
    ${table('user_feature_store')}; ${table('retired_feature_store')}`);
  db.prepare('INSERT INTO user_feature_store VALUES (?, ?, ?, ?, ?, ?, ?)').run('old', 'd0_unauth_features', '{"a":1}', T0, T0, 'job-0', T0);
  db.pragma('user_version = 3');
  db.close();

  const store = await openSqliteStore({ path, entityTables: { bright_uid: 'user_feature_store' } });
  try {
    assert.deepEqual((await store.getRecords([key]))[0]?.meta, { created_at: T0, updated_at: T0, compute_id: 'job-0', event_time: T0 });
    assert.deepEqual(await store.getComputeHistory(key, 10), [], 'a record from before the history has none');
    await store.writeRecord({ key, data: { a: 2 }, computeId: 'job-1', now: T1, historySize: 10 });
    assert.deepEqual(await store.getComputeHistory(key, 10), [{ compute_id: 'job-1', timestamp: T1 }]);
  } finally {
    await store.close();
  }
  const check = new Database(path, { readonly: true });
  try {
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    for (const t of ['user_feature_store', 'retired_feature_store']) {
      const cols = (check.pragma(`table_info(${t})`) as { name: string }[]).map((c) => c.name);
      assert.ok(cols.includes('compute_history'), t);
    }
  } finally {
    check.close();
  }
});
