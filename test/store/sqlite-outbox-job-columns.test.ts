import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { OutboxEvent } from '../../src/model.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';
import { outboxEvent } from '../support/fixtures.js';
import { insertRawOutboxEvent, schemaVersionOf } from '../support/sqlite-backend.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-outbox-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TABLES = { bright_uid: 'user_feature_store' };

function counted(entityValue: string, computeId: string | null, timestamp: string, category = 'd0_unauth_features'): OutboxEvent {
  const e = outboxEvent(entityValue, { timestamp, category });
  return { ...e, event: { ...e.event, compute_id: computeId } };
}

async function drain(store: SqliteStore): Promise<string[]> {
  const claimed = await store.outbox.claim('relay', 100, 30_000);
  await store.outbox.complete(claimed.map((e) => e.id));
  return claimed.map((e) => e.id);
}

test('events pending in a version-9 file (no job columns) are counted in the job statistics after the migration', async () => {
  const path = join(dir, 'v9.db');
  // A file at version 9: the current layout without the outbox's job columns.
  await (await SqliteStore.open({ path, entityTables: TABLES })).close();
  const db = new Database(path);
  for (const column of ['job_compute_id', 'job_entity_type', 'job_category']) db.exec(`ALTER TABLE outbox DROP COLUMN ${column}`);
  db.pragma('user_version = 9');
  const old = [
    counted('a', 'job-old', '2025-10-16T10:00:00.000Z'),
    counted('b', 'job-old', '2025-10-16T11:00:00.000Z', 'd1_auth_features'),
    counted('c', null, '2025-10-16T12:00:00.000Z'),
  ];
  const deleted = outboxEvent('d', { timestamp: '2025-10-16T13:00:00.000Z' });
  const gone: OutboxEvent = { ...deleted, event: { ...deleted.event, event_type: 'feature_deleted', compute_id: 'job-old' } };
  for (const e of [...old, gone]) insertRawOutboxEvent(db, e);
  db.close();

  const store = await SqliteStore.open({ path, entityTables: TABLES });
  try {
    assert.deepEqual(await drain(store), [...old, gone].map((e) => e.id));
    assert.deepEqual(await store.computeJobs.get('job-old'), {
      computeId: 'job-old',
      writes: 2,
      firstWriteAt: '2025-10-16T10:00:00.000Z',
      lastWriteAt: '2025-10-16T11:00:00.000Z',
      categories: { d0_unauth_features: 1, d1_auth_features: 1 },
      entityTypes: { bright_uid: 2 },
    });
  } finally {
    await store.close();
  }
  assert.equal(schemaVersionOf(path), SCHEMA_VERSION, 'the file is at the current schema version');
});

test('a write stores what its event counts beside it, and nothing for an event that does not count', async () => {
  const path = join(dir, 'columns.db');
  const store = await SqliteStore.open({ path, entityTables: TABLES });
  const write = (entityValue: string, event: OutboxEvent) => ({
    key: { entityType: 'bright_uid', entityValue, category: event.event.resource_name },
    data: { a: 1 },
    computeId: event.event.compute_id,
    now: event.event.timestamp,
    event,
  });
  try {
    await store.writeRecord(write('x', counted('x', 'job-new', '2025-10-17T10:00:00.000Z')));
    await store.writeRecord(write('y', counted('y', null, '2025-10-17T11:00:00.000Z')));
  } finally {
    await store.close();
  }
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT job_compute_id, job_entity_type, job_category, created_at FROM outbox ORDER BY seq').all();
    assert.deepEqual(rows, [
      { job_compute_id: 'job-new', job_entity_type: 'bright_uid', job_category: 'd0_unauth_features', created_at: '2025-10-17T10:00:00.000Z' },
      { job_compute_id: null, job_entity_type: null, job_category: null, created_at: '2025-10-17T11:00:00.000Z' },
    ]);
  } finally {
    db.close();
  }
});
