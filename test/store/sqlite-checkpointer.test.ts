import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-checkpointer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TABLES = { bright_uid: 'user_feature_store' };

function write(i: number) {
  return { key: { entityType: 'bright_uid', entityValue: `user-${i}`, category: 'd0_unauth_features' }, data: { i }, computeId: null, now: '2025-01-01T00:00:00.000Z' };
}

/** Records in a copy of the database file alone, without its WAL: what checkpoints moved there. */
function recordsInMainFile(path: string, name: string): number {
  const copy = join(dir, name);
  copyFileSync(path, copy);
  const db = new Database(copy, { readonly: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'user_feature_store'").get();
    // Before the first checkpoint even the table is only in the WAL.
    return table === undefined ? 0 : (db.prepare('SELECT count(*) AS n FROM user_feature_store').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test('committed writes reach the database file without a commit crossing the automatic checkpoint size', async () => {
  const path = join(dir, 'checkpointed.db');
  const store = await SqliteStore.open({ path, entityTables: TABLES });
  try {
    // 50 small writes: a few dozen WAL pages, far below SQLite's automatic checkpoint (1,000).
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.writeRecord(write(i))));
    assert.ok(statSync(`${path}-wal`).size > 0, 'the writes are in the WAL');
    let found = 0;
    for (let attempt = 0; attempt < 50 && found < 50; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      found = recordsInMainFile(path, `copy-${attempt}.db`);
    }
    assert.equal(found, 50, 'the checkpointer copied the committed pages into the database file');
  } finally {
    await store.close();
  }
  // The last connection's close checkpoints and removes the WAL, as before.
  assert.equal(existsSync(`${path}-wal`), false);
  assert.equal(recordsInMainFile(path, 'after-close.db'), 50);
});
