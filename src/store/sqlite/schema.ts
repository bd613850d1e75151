/**
 * The file layout and its migrations. One SQLite file (WAL) holds the outbox and one table per
 * entity type (`createEntityTable`), created for each configured entity type on open, so adding
 * an entity type needs no migration. Migrations run in order, one transaction each, and
 * `PRAGMA user_version` records how many have run; a file from a newer build is refused.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';

/** How commits reach the disk: `full` fsyncs every commit (survives power loss); `normal` survives process crashes. */
export type Synchronous = 'full' | 'normal';

type Migration = (db: Db) => void;

const MIGRATIONS: readonly Migration[] = [
  (db) =>
    db.exec(`CREATE TABLE IF NOT EXISTS outbox (
       seq         INTEGER PRIMARY KEY AUTOINCREMENT,
       event_id    TEXT    NOT NULL UNIQUE,
       msg_key     TEXT    NOT NULL,
       payload     TEXT    NOT NULL,
       created_at  TEXT    NOT NULL,
       lease_owner TEXT,
       lease_until INTEGER NOT NULL DEFAULT 0
     )`),
  // v2: a plain rowid key and no index on event_id — each event costs two fewer B-tree writes
  // on insert and on delete; relays address the events they claimed by seq.
  (db) =>
    db.exec(`CREATE TABLE outbox_v2 (
       seq         INTEGER PRIMARY KEY,
       event_id    TEXT    NOT NULL,
       msg_key     TEXT    NOT NULL,
       payload     TEXT    NOT NULL,
       created_at  TEXT    NOT NULL,
       lease_owner TEXT,
       lease_until INTEGER NOT NULL DEFAULT 0
     );
     INSERT INTO outbox_v2 SELECT seq, event_id, msg_key, payload, created_at, lease_owner, lease_until FROM outbox;
     DROP TABLE outbox;
     ALTER TABLE outbox_v2 RENAME TO outbox`),
  // v3: records keep the event time of their latest write (NULL when it gave none). Every
  // entity table in the file gets the column, configured or not, so a table configured again
  // later is already current. ADD COLUMN of a nullable column rewrites no rows.
  (db) => {
    for (const table of entityTables(db)) {
      if (!columns(db, table).includes('event_time')) db.exec(`ALTER TABLE ${quote(table)} ADD COLUMN event_time TEXT`);
    }
  },
  // v4: records keep their compute history, a JSON array newest first (NULL: none yet), updated
  // by the upsert itself. Nullable, so existing rows are not rewritten.
  (db) => {
    for (const table of entityTables(db)) {
      if (!columns(db, table).includes('compute_history')) db.exec(`ALTER TABLE ${quote(table)} ADD COLUMN compute_history TEXT`);
    }
  },
  // v5: the by-compute-id query reads an index on (compute_id, category, entity_value) (until
  // v9 the index was on (compute_id, category) and held entity_value as the rest of the key of a
  // WITHOUT ROWID table; either way the same order).
  (db) => {
    for (const table of entityTables(db)) createComputeIdIndex(db, table);
  },
  // v6: records keep the time from which they may be removed (their category's TTL at the
  // write; NULL: never), with a partial index so the sweeper finds expired rows without a scan
  // and records without a TTL cost the index nothing.
  (db) => {
    for (const table of entityTables(db)) {
      if (!columns(db, table).includes('expires_at')) db.exec(`ALTER TABLE ${quote(table)} ADD COLUMN expires_at TEXT`);
      createExpiryIndex(db, table);
    }
  },
  // v7: per compute job statistics, added to by the relay in the transaction that deletes the
  // published events (outbox.ts). The jobs are listed latest last write first through the index.
  (db) =>
    db.exec(`CREATE TABLE compute_jobs (
       compute_id      TEXT    NOT NULL PRIMARY KEY,
       records_written INTEGER NOT NULL,
       first_write_at  TEXT    NOT NULL,
       last_write_at   TEXT    NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX compute_jobs_by_last_write ON compute_jobs (last_write_at, compute_id);
     CREATE TABLE compute_job_writes (
       compute_id TEXT    NOT NULL,
       kind       TEXT    NOT NULL CHECK (kind IN ('category', 'entity_type')),
       name       TEXT    NOT NULL,
       writes     INTEGER NOT NULL,
       PRIMARY KEY (compute_id, kind, name)
     ) WITHOUT ROWID`),
  // v8: earlier versions of records (versions.ts), one row per kept version of any entity
  // table, and the rollback states of compute jobs. Column names differ from an entity table's
  // (`record_value`, not `entity_value`) so that migrations of entity tables never touch them.
  (db) =>
    db.exec(`CREATE TABLE IF NOT EXISTS record_versions (
       seq             INTEGER PRIMARY KEY,
       record_table    TEXT NOT NULL,
       record_value    TEXT NOT NULL,
       record_category TEXT NOT NULL,
       data            TEXT NOT NULL,
       compute_id      TEXT,
       event_time      TEXT,
       updated_at      TEXT NOT NULL
     );
     CREATE INDEX IF NOT EXISTS record_versions_by_record ON record_versions (record_table, record_value, record_category, seq);
     CREATE TABLE IF NOT EXISTS rollbacks (
       compute_id  TEXT PRIMARY KEY,
       state       TEXT NOT NULL,
       status      TEXT NOT NULL,
       lease_owner TEXT,
       lease_until INTEGER NOT NULL DEFAULT 0
     ) WITHOUT ROWID`),
  // v9: entity tables become rowid tables with the (entity_value, category) key as a unique
  // index. As WITHOUT ROWID tables their interior pages held whole rows (an index B-tree's
  // dividers are its full entries): ten rows to a page, a five-level tree, and every leaf split
  // rewrote a parent with a whole row in it; a write wrote 2.5 pages of the table on average.
  // Rowid interior pages hold integers, and a row that grows is rewritten in its leaf alone:
  // 25 % fewer bytes written per write, point reads unchanged (docs/decisions/4-write-path-cpu.md).
  // The compute-id index, which on a WITHOUT ROWID table carried entity_value as its key suffix,
  // names it. Rows are copied in key order, once; the file's other tables are not touched.
  (db) => {
    for (const table of entityTables(db)) {
      const t = quote(table);
      const copy = quote(`${table}__v9`);
      db.exec(`${entityTableDdl(copy)};
        INSERT INTO ${copy} (${ENTITY_COLUMNS}) SELECT ${ENTITY_COLUMNS} FROM ${t} ORDER BY entity_value, category;
        DROP TABLE ${t};
        ALTER TABLE ${copy} RENAME TO ${t}`);
      createComputeIdIndex(db, table);
      createExpiryIndex(db, table);
    }
  },
  // v10: each outbox row carries what the job statistics count of its event (the compute id,
  // entity type and category; NULL when the event is not counted: a delete, no compute id), set
  // by the write that inserts it. The relay's claim read them from the JSON payload with five
  // `->>` extractions, ~4 µs of an event's ~10 µs claim (docs/decisions/8-event-relay-cpu.md,
  // round 3); the insert binds three more values. Rows already pending are filled in here.
  (db) => {
    for (const column of ['job_compute_id', 'job_entity_type', 'job_category']) {
      if (!columns(db, 'outbox').includes(column)) db.exec(`ALTER TABLE outbox ADD COLUMN ${column} TEXT`);
    }
    db.exec(`UPDATE outbox SET job_compute_id = payload ->> '$.compute_id', job_entity_type = payload ->> '$.entity_type',
       job_category = payload ->> '$.resource_name'
       WHERE payload ->> '$.event_type' = 'feature_available' AND coalesce(payload ->> '$.compute_id', '') <> ''`);
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * Page size of new files, bytes, set explicitly so the layout does not follow the SQLite
 * build's default. Measured against 8–64 KiB at 100k and 10M records
 * (docs/decisions/7-sqlite-at-scale.md): larger pages make the entity tables' B-trees shallower
 * (WITHOUT ROWID interior pages hold whole rows, ~10 per 4 KiB page) but copy more bytes per
 * page read, and a point read was no faster at 100k and ~2 µs slower at 10M with 16 KiB.
 */
export const PAGE_SIZE = 4096;

/** Opens a connection with the settings every connection of the store uses. */
export function openDatabase(path: string, synchronous: Synchronous): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // Takes effect only on a new, empty file (before WAL mode and the first table); an existing
  // file keeps the page size it was created with, and works the same.
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('busy_timeout = 5000');
  // Up to 32 MiB of page cache (allocated only as pages are read) keeps hot B-tree pages out
  // of the OS read path; point reads measured 9 → 7.5 µs on a 100k-record file.
  db.pragma('cache_size = -32768');
  return db;
}

/** Brings the schema to the current version and creates the entity tables. Idempotent. */
export function migrate(db: Db, tables: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`SQLite schema version ${current} is newer than this build supports (${MIGRATIONS.length})`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      MIGRATIONS[v]?.(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  for (const table of tables) createEntityTable(db, table);
}

const ENTITY_COLUMNS = 'entity_value, category, data, created_at, updated_at, compute_id, event_time, compute_history, expires_at';

/**
 * The layout of an entity table at the current version (`name` quoted): a rowid table, its key
 * (entity_value, category) a unique index that the upserts' ON CONFLICT and every point read use.
 */
function entityTableDdl(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
     entity_value TEXT NOT NULL,
     category     TEXT NOT NULL,
     data         TEXT NOT NULL,
     created_at   TEXT NOT NULL,
     updated_at   TEXT NOT NULL,
     compute_id   TEXT,
     event_time   TEXT,
     compute_history TEXT,
     expires_at   TEXT,
     PRIMARY KEY (entity_value, category)
   )`;
}

/** Creates an entity table at the current layout, with its indexes, unless it exists. */
function createEntityTable(db: Db, table: string): void {
  db.exec(entityTableDdl(quote(table)));
  createComputeIdIndex(db, table);
  createExpiryIndex(db, table);
}

/**
 * The by-compute-id index: (compute_id, category, entity_value), the order in which the
 * by-compute-id query pages, so a page is a range of it.
 */
function createComputeIdIndex(db: Db, table: string): void {
  db.exec(`CREATE INDEX IF NOT EXISTS ${quote(`${table}_by_compute_id`)} ON ${quote(table)} (compute_id, category, entity_value)`);
}

function createExpiryIndex(db: Db, table: string): void {
  db.exec(`CREATE INDEX IF NOT EXISTS ${quote(`${table}_expires_at`)} ON ${quote(table)} (expires_at) WHERE expires_at IS NOT NULL`);
}

/** Tables with the entity-table key, whatever entity type they were created for. */
function entityTables(db: Db): string[] {
  const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  return names.filter((name) => {
    const cols = columns(db, name);
    return cols.includes('entity_value') && cols.includes('category');
  });
}

function columns(db: Db, table: string): string[] {
  return (db.pragma(`table_info(${quote(table)})`) as { name: string }[]).map((c) => c.name);
}
