import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import type { OutboxEvent } from '../../src/model.js';
import type { TestBackend } from './backend.js';

/** SQLite on a fresh temporary file per instance. */
export const sqliteBackend: TestBackend = {
  name: 'sqlite',
  type: 'sqlite',
  events: true,
  versions: true,
  async setup() {
    const dir = mkdtempSync(join(tmpdir(), 'feature-store-test-'));
    const path = join(dir, 'features.db');
    return {
      env: { STORE: 'sqlite', SQLITE_PATH: path },
      async insertLegacy(r) {
        // The tables exist once a store has opened the file; old rows differ only in their
        // timestamp format, which is what this exercises.
        const table = r.entityType === 'account_pid' ? 'account_feature_store' : 'user_feature_store';
        const db = new Database(path);
        try {
          db.prepare(
            `INSERT OR REPLACE INTO "${table}" (entity_value, category, data, created_at, updated_at, compute_id)
             VALUES (?, ?, ?, ?, ?, ?)`,
          ).run(r.entityValue, r.category, JSON.stringify(r.data), r.createdAt, r.updatedAt, r.computeId);
        } finally {
          db.close();
        }
      },
      async teardown() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Inserts a pending event the way an older schema version's writes did (migration tests). */
export function insertRawOutboxEvent(db: Db, event: OutboxEvent): void {
  db.prepare('INSERT INTO outbox (event_id, msg_key, payload, created_at) VALUES (?, ?, ?, ?)').run(
    event.id,
    event.key,
    JSON.stringify(event.event),
    event.event.timestamp,
  );
}

/** The schema version (`user_version`) of the SQLite file at `path`, read on a connection of its own. */
export function schemaVersionOf(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}
