import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';
import { outboxEvent } from '../support/fixtures.js';
import { insertRawOutboxEvent, schemaVersionOf } from '../support/sqlite-backend.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-outbox-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TABLES = { bright_uid: 'user_feature_store' };

function write(entityValue: string, event = outboxEvent(entityValue)) {
  return { key: { entityType: 'bright_uid', entityValue, category: 'd0_unauth_features' }, data: { a: 1 }, computeId: null, now: '2025-10-16T10:00:00.000Z', event };
}

test('a relay completing an event another relay took over never deletes a newer event', async () => {
  const path = join(dir, 'two-relays.db');
  const a = await SqliteStore.open({ path, entityTables: TABLES });
  const b = await SqliteStore.open({ path, entityTables: TABLES });
  try {
    const x = outboxEvent('x');
    await a.writeRecord(write('x', x));
    assert.deepEqual((await a.outbox.claim('relay-a', 10, 1)).map((e) => e.id), [x.id]);
    await new Promise((r) => setTimeout(r, 10)); // relay-a's lease expires
    assert.deepEqual((await b.outbox.claim('relay-b', 10, 30_000)).map((e) => e.id), [x.id]);
    await b.outbox.complete([x.id]);
    const y = outboxEvent('y');
    await b.writeRecord(write('y', y)); // may reuse x's seq
    await a.outbox.complete([x.id]); // relay-a finishes late
    assert.equal((await a.outbox.stats()).pending, 1);
    assert.deepEqual((await a.outbox.claim('relay-a', 10, 30_000)).map((e) => e.id), [y.id]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('events pending in a version-1 database survive the migration', async () => {
  const path = join(dir, 'v1.db');
  const db = new Database(path);
  db.exec(`CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, msg_key TEXT NOT NULL,
     payload TEXT NOT NULL, created_at TEXT NOT NULL, lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0)`);
  const old = outboxEvent('legacy');
  insertRawOutboxEvent(db, old);
  db.pragma('user_version = 1');
  db.close();

  const store = await SqliteStore.open({ path, entityTables: TABLES });
  try {
    await store.writeRecord(write('new'));
    const claimed = await store.outbox.claim('relay', 10, 30_000);
    assert.equal(claimed.length, 2);
    assert.deepEqual(claimed[0], old);
  } finally {
    await store.close();
  }
  assert.equal(schemaVersionOf(path), SCHEMA_VERSION, 'the file is at the current schema version');
});
