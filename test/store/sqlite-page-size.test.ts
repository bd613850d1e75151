import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { PAGE_SIZE, SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';

/**
 * New files get the store's page size; a file created with another one (by an older build, or
 * rebuilt by an operator with `PRAGMA page_size = …; VACUUM INTO …`) keeps it and works.
 */

const dir = mkdtempSync(join(tmpdir(), 'feature-store-page-size-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TABLES = { bright_uid: 'user_feature_store' };
const T0 = '2025-10-16T10:00:00.000Z';

function key(entityValue: string) {
  return { entityType: 'bright_uid', entityValue, category: 'd0_unauth_features' };
}

function pageSize(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
}

test('a new file is created with the store page size', async () => {
  const path = join(dir, 'new.db');
  const store = await openSqliteStore({ path, entityTables: TABLES });
  await store.writeRecord({ key: key('x'), data: { a: 1 }, computeId: null, now: T0 });
  await store.close();
  assert.equal(pageSize(path), PAGE_SIZE);
});

for (const size of [16_384, 65_536]) {
  test(`a file created with ${size}-byte pages keeps them and works, also when opened again`, async () => {
    const path = join(dir, `existing-${size}.db`);
    // Its page size is fixed by its first table, here the outbox of schema version 1.
    const raw = new Database(path);
    raw.pragma(`page_size = ${size}`);
    raw.pragma('journal_mode = WAL');
    raw.exec('CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, msg_key TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL, lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0)');
    raw.pragma('user_version = 1');
    raw.close();
    assert.equal(pageSize(path), size);

    const store = await openSqliteStore({ path, entityTables: TABLES });
    const entities = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    await Promise.all(entities.map((e, i) => store.writeRecord({ key: key(e), data: { i, pad: 'x'.repeat(400) }, computeId: 'job-1', now: T0 })));
    await store.close();
    assert.equal(pageSize(path), size, 'opening and migrating leaves the page size as it was');

    const again = await openSqliteStore({ path, entityTables: TABLES });
    try {
      const db = new Database(path, { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      db.close();
      const records = await again.getRecords(entities.map(key));
      assert.deepEqual(
        records.map((r) => (r?.data as { i: number } | undefined)?.i),
        entities.map((_, i) => i),
      );
    } finally {
      await again.close();
    }
  });
}
