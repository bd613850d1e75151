import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { FeatureRecord, OutboxEvent } from '../../src/model.js';
import type { WriteRecordInput } from '../../src/store/ports.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';
import { outboxEvent } from '../support/fixtures.js';

/**
 * The SQLite backend removes expired records itself (`sweeper`): only records whose stored
 * expiry has passed, oldest expiry first, a bounded number per transaction, each with its
 * event in the same transaction; a record rewritten with a later expiry stays.
 */
const dir = mkdtempSync(join(tmpdir(), 'feature-store-expiry-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TABLES = { bright_uid: 'user_feature_store', account_pid: 'account_feature_store' };
const T0 = '2025-10-16T10:00:00.000Z';

function write(entityType: string, entityValue: string, expiresAt: string | undefined, now = T0): WriteRecordInput {
  return { key: { entityType, entityValue, category: 'd0_unauth_features' }, data: { a: 1, b: 2 }, computeId: 'job', now, expiresAt };
}

function deletedEvent(record: FeatureRecord): OutboxEvent {
  const e = outboxEvent(record.entityValue, { features: Object.keys(record.data) });
  return { ...e, event: { ...e.event, event_type: 'feature_deleted' } };
}

test('sweeps expired records in bounded batches, earliest expiry first, each with its event', async () => {
  const path = join(dir, 'sweep.db');
  const store = await SqliteStore.open({ path, entityTables: TABLES });
  try {
    await store.writeRecord(write('bright_uid', 'late', '2025-10-16T10:03:00.000Z'));
    await store.writeRecord(write('bright_uid', 'early', '2025-10-16T10:01:00.000Z'));
    await store.writeRecord(write('account_pid', 'middle', '2025-10-16T10:02:00.000Z'));
    await store.writeRecord(write('bright_uid', 'future', '2025-10-16T11:00:00.000Z'));
    await store.writeRecord(write('bright_uid', 'never', undefined));
    const sweeper = store.sweeper;
    assert.ok(sweeper !== undefined, 'sweeper !== undefined');

    const swept: string[] = [];
    const event = (r: FeatureRecord): OutboxEvent => {
      swept.push(`${r.entityType}/${r.entityValue}`);
      assert.deepEqual(r.data, { a: 1, b: 2 }, 'the event is built from the deleted record');
      return deletedEvent(r);
    };
    assert.equal(await sweeper.sweepExpired({ now: '2025-10-16T10:05:00.000Z', limit: 1, event }), 1);
    assert.equal(await sweeper.sweepExpired({ now: '2025-10-16T10:05:00.000Z', limit: 5, event }), 2);
    assert.equal(await sweeper.sweepExpired({ now: '2025-10-16T10:05:00.000Z', limit: 5, event }), 0);
    // Per table, earliest expiry first; tables in configuration order.
    assert.deepEqual(swept.sort(), ['account_pid/middle', 'bright_uid/early', 'bright_uid/late']);
    const keys = (type: string, values: string[]) => values.map((entityValue) => ({ entityType: type, entityValue, category: 'd0_unauth_features' }));
    const left = await store.getRecords([...keys('bright_uid', ['early', 'late', 'future', 'never']), ...keys('account_pid', ['middle'])]);
    assert.deepEqual(left.map((r) => r !== undefined), [false, false, true, true, false]);
    assert.equal((await store.outbox.stats()).pending, 3);
    const events = await store.outbox.claim('t', 10, 30_000);
    assert.deepEqual(events.map((e) => e.event.event_type), ['feature_deleted', 'feature_deleted', 'feature_deleted']);
  } finally {
    await store.close();
  }
});

test('a record rewritten with a later expiry, or without one, is not swept; the expiry boundary is inclusive', async () => {
  const store = await SqliteStore.open({ path: join(dir, 'rewrite.db'), entityTables: TABLES });
  try {
    await store.writeRecord(write('bright_uid', 'renewed', '2025-10-16T10:01:00.000Z'));
    await store.writeRecord(write('bright_uid', 'renewed', '2025-10-16T12:00:00.000Z', '2025-10-16T11:00:00.000Z'));
    await store.writeRecord(write('bright_uid', 'cleared', '2025-10-16T10:01:00.000Z'));
    await store.writeRecord(write('bright_uid', 'cleared', undefined, '2025-10-16T10:00:30.000Z'));
    await store.writeRecord(write('bright_uid', 'edge', '2025-10-16T10:05:00.000Z'));
    const n = await store.sweeper?.sweepExpired({ now: '2025-10-16T10:05:00.000Z', limit: 10 });
    assert.equal(n, 1);
    const left = await store.getRecords(['renewed', 'cleared', 'edge'].map((entityValue) => ({ entityType: 'bright_uid', entityValue, category: 'd0_unauth_features' })));
    assert.deepEqual(left.map((r) => r !== undefined), [true, true, false]);
    assert.equal((await store.outbox.stats()).pending, 0, 'no event without an event builder (events off)');
  } finally {
    await store.close();
  }
});

test('a version-3 file gains the expiry column and its partial index; its records never expire', async () => {
  const path = join(dir, 'v3.db');
  const db = new Database(path);
  db.exec(`CREATE TABLE user_feature_store (
     entity_value TEXT NOT NULL, category TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL, compute_id TEXT, event_time TEXT, PRIMARY KEY (entity_value, category)) WITHOUT ROWID;
   CREATE TABLE outbox (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, msg_key TEXT NOT NULL, payload TEXT NOT NULL,
     created_at TEXT NOT NULL, lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0);
   INSERT INTO user_feature_store VALUES ('old', 'd0_unauth_features', '{"a":1}', '${T0}', '${T0}', NULL, NULL);
   PRAGMA user_version = 3;`);
  db.close();
  const store = await SqliteStore.open({ path, entityTables: { bright_uid: 'user_feature_store' } });
  try {
    assert.equal(await store.sweeper?.sweepExpired({ now: '2999-01-01T00:00:00.000Z', limit: 10 }), 0);
    const [old] = await store.getRecords([{ entityType: 'bright_uid', entityValue: 'old', category: 'd0_unauth_features' }]);
    assert.deepEqual(old?.data, { a: 1 });
  } finally {
    await store.close();
  }
  const check = new Database(path, { readonly: true });
  try {
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const plan = check
      .prepare("EXPLAIN QUERY PLAN SELECT entity_value FROM user_feature_store WHERE expires_at <= '2025' ORDER BY expires_at LIMIT 5")
      .all() as { detail: string }[];
    assert.match(plan.map((p) => p.detail).join('\n'), /USING (COVERING )?INDEX "?user_feature_store_expires_at"?/);
  } finally {
    check.close();
  }
});
