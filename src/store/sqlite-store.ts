import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { StoreUnavailableError } from '../errors.js';
import type { FeatureMap, FeatureRecord, OutboxEvent, RecordMeta } from '../model.js';
import { normalizeTimestamp } from '../timestamps.js';
import type { FeatureStore, OutboxStats, OutboxStore, StoreHealth, WriteCategoryInput } from './feature-store.js';

export interface SqliteStoreOptions {
  /** Database file; created with its directory on first start. `:memory:` for a private db. */
  path: string;
  /** Entity type → table name. */
  entityTables: Readonly<Record<string, string>>;
  /** `full` (default) fsyncs every commit; `normal` survives process crashes but not power loss. */
  synchronous?: 'full' | 'normal';
}

/**
 * Schema migrations, applied in order inside one transaction each; `PRAGMA user_version`
 * records how many have run. Entity tables are created per configured entity type with the
 * layout below (`createEntityTable`), so adding an entity type needs no migration.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS outbox (
     seq         INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id    TEXT    NOT NULL UNIQUE,
     msg_key     TEXT    NOT NULL,
     payload     TEXT    NOT NULL,
     created_at  TEXT    NOT NULL,
     lease_owner TEXT,
     lease_until INTEGER NOT NULL DEFAULT 0
   )`,
];

function createEntityTable(db: Db, table: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${quote(table)} (
     entity_value TEXT NOT NULL,
     category     TEXT NOT NULL,
     data         TEXT NOT NULL,
     created_at   TEXT NOT NULL,
     updated_at   TEXT NOT NULL,
     compute_id   TEXT,
     PRIMARY KEY (entity_value, category)
   ) WITHOUT ROWID`);
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

interface Row {
  category: string;
  data: string;
  created_at: string;
  updated_at: string;
  compute_id: string | null;
}

interface OutboxRow {
  seq: number;
  event_id: string;
  msg_key: string;
  payload: string;
}

interface PendingWrite {
  input: WriteCategoryInput;
  resolve: (createdAt: string) => void;
  reject: (err: unknown) => void;
}

interface TableStatements {
  upsert: Statement<[string, string, string, string, string, string | null], { created_at: string }>;
  get: Statement<[string, string], Row>;
  /** `WHERE category IN (?, …)` statements by number of categories. */
  getMany: Map<number, Statement<string[], Row>>;
}

/** The embedded default backend: one SQLite file (WAL), one table per entity type. */
export class SqliteStore implements FeatureStore {
  readonly type = 'sqlite';
  readonly outbox: OutboxStore;
  readonly #db: Db;
  readonly #tables = new Map<string, TableStatements>();
  readonly #tableNames: Readonly<Record<string, string>>;
  readonly #insertEvent: Statement<[string, string, string, string]>;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    try {
      this.#db = new Database(options.path);
    } catch (err) {
      throw new StoreUnavailableError(`Cannot open SQLite database at ${options.path}`, err);
    }
    const db = this.#db;
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('busy_timeout = 5000');
    // Up to 32 MiB of page cache (allocated only as pages are read) keeps hot B-tree pages out
    // of the OS read path; point reads measured 9 → 7.5 µs on a 100k-record file.
    db.pragma('cache_size = -32768');
    migrate(db);
    this.#tableNames = options.entityTables;
    for (const [entityType, table] of Object.entries(options.entityTables)) {
      createEntityTable(db, table);
      const t = quote(table);
      this.#tables.set(entityType, {
        upsert: db.prepare(
          `INSERT INTO ${t} (entity_value, category, data, created_at, updated_at, compute_id)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (entity_value, category) DO UPDATE SET
             data = excluded.data, updated_at = excluded.updated_at, compute_id = excluded.compute_id
           RETURNING created_at`,
        ),
        get: db.prepare(
          `SELECT category, data, created_at, updated_at, compute_id FROM ${t}
           WHERE entity_value = ? AND category = ?`,
        ),
        getMany: new Map(),
      });
    }
    this.#insertEvent = db.prepare(
      'INSERT INTO outbox (event_id, msg_key, payload, created_at) VALUES (?, ?, ?, ?)',
    );
    this.outbox = new SqliteOutbox(db, options.synchronous !== 'normal');
  }

  #statements(entityType: string): TableStatements {
    const s = this.#tables.get(entityType);
    if (s === undefined) throw new Error(`SqliteStore: entity type '${entityType}' is not configured`);
    return s;
  }

  readonly #write = (input: WriteCategoryInput): string => {
    const { upsert } = this.#statements(input.entityType);
    const row = upsert.get(
      input.entityValue,
      input.category,
      JSON.stringify(input.data),
      input.now,
      input.now,
      input.computeId,
    );
    if (input.event !== undefined) {
      const { id, key, event } = input.event;
      this.#insertEvent.run(id, key, JSON.stringify(event), event.timestamp);
    }
    // RETURNING always yields the row for an upsert.
    return (row as { created_at: string }).created_at;
  };

  /**
   * Group commit: writes that arrive in the same turn of the event loop are committed in one
   * transaction, so concurrent writers share one fsync instead of paying one each. A write's
   * promise resolves only after its transaction committed; if the transaction fails, every
   * write in it is rejected and none of them is stored. Each record's upsert and its outbox
   * insert are in the same transaction, so they are durable together or not at all.
   */
  #pending: PendingWrite[] = [];
  readonly #commitBatch = (batch: PendingWrite[]): string[] =>
    this.#db.transaction(() => batch.map((w) => this.#write(w.input)))();

  readonly #flush = (): void => {
    const batch = this.#pending;
    this.#pending = [];
    let created: string[];
    try {
      created = this.#guard(() => this.#commitBatch(batch));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => w.resolve(created[i] as string));
  };

  async writeCategory(input: WriteCategoryInput): Promise<RecordMeta> {
    if (!this.#db.open) throw new StoreUnavailableError();
    const createdAt = await new Promise<string>((resolve, reject) => {
      if (this.#pending.push({ input, resolve, reject }) === 1) setImmediate(this.#flush);
    });
    return { created_at: normalizeTimestamp(createdAt), updated_at: input.now, compute_id: input.computeId };
  }

  async getCategory(entityType: string, entityValue: string, category: string): Promise<FeatureRecord | undefined> {
    const row = this.#guard(() => this.#statements(entityType).get.get(entityValue, category));
    return row === undefined ? undefined : toRecord(entityType, entityValue, row);
  }

  async getCategories(entityType: string, entityValue: string, categories: readonly string[]): Promise<FeatureRecord[]> {
    if (categories.length === 0) return [];
    const s = this.#statements(entityType);
    let stmt = s.getMany.get(categories.length);
    if (stmt === undefined) {
      const placeholders = categories.map(() => '?').join(', ');
      stmt = this.#db.prepare(
        `SELECT category, data, created_at, updated_at, compute_id FROM ${quote(this.#tableNames[entityType] ?? '')}
         WHERE entity_value = ? AND category IN (${placeholders})`,
      );
      s.getMany.set(categories.length, stmt);
    }
    const query = stmt;
    const rows = this.#guard(() => query.all(entityValue, ...categories));
    return rows.map((row) => toRecord(entityType, entityValue, row));
  }

  async health(): Promise<StoreHealth> {
    try {
      const existing = new Set(
        (this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
          (r) => r.name,
        ),
      );
      const tablesAvailable = Object.values(this.#tableNames).filter((t) => existing.has(t));
      return { ok: tablesAvailable.length === Object.keys(this.#tableNames).length, tablesAvailable };
    } catch (err) {
      return { ok: false, tablesAvailable: [], error: err instanceof Error ? err.message : String(err) };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending.length > 0) this.#flush();
    this.#db.close();
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof Database.SqliteError) {
        // SQLITE_BUSY / LOCKED / IOERR / FULL / CANTOPEN / READONLY: infrastructure, retryable.
        throw new StoreUnavailableError(undefined, err);
      }
      if (err instanceof TypeError && !this.#db.open) throw new StoreUnavailableError(undefined, err);
      throw err;
    }
  }
}

function toRecord(entityType: string, entityValue: string, row: Row): FeatureRecord {
  return {
    entityType,
    entityValue,
    category: row.category,
    data: JSON.parse(row.data) as FeatureMap,
    meta: {
      created_at: normalizeTimestamp(row.created_at),
      updated_at: normalizeTimestamp(row.updated_at),
      compute_id: row.compute_id,
    },
  };
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new StoreUnavailableError(
      `SQLite schema version ${current} is newer than this build supports (${MIGRATIONS.length})`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/**
 * The outbox's bookkeeping (leases, deletions) commits without waiting for fsync even when the
 * store runs with `synchronous = FULL`: losing one of these commits to a power cut can only
 * make an event be published again (consumers dedupe by `event_id`), never lose one. The
 * events themselves are inserted by `writeCategory`, in the record's durable transaction; and
 * since the WAL is sequential, the next durable commit also makes the earlier ones durable.
 */
class SqliteOutbox implements OutboxStore {
  readonly #claim: Statement<[string, number, number, number], OutboxRow>;
  readonly #complete: Statement<[string]>;
  readonly #release: Statement<[string]>;
  readonly #stats: Statement<[], { pending: number; oldest: string | null }>;
  readonly #db: Db;
  readonly #durable: boolean;

  constructor(db: Db, durable: boolean) {
    this.#db = db;
    this.#durable = durable;
    this.#claim = db.prepare(
      `UPDATE outbox SET lease_owner = ?, lease_until = ?
       WHERE seq IN (SELECT seq FROM outbox WHERE lease_until <= ? ORDER BY seq LIMIT ?)
       RETURNING seq, event_id, msg_key, payload`,
    );
    // Ids travel as one JSON array parameter: one statement per batch, whatever its size.
    this.#complete = db.prepare('DELETE FROM outbox WHERE event_id IN (SELECT value FROM json_each(?))');
    this.#release = db.prepare(
      'UPDATE outbox SET lease_owner = NULL, lease_until = 0 WHERE event_id IN (SELECT value FROM json_each(?))',
    );
    this.#stats = db.prepare('SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox');
  }

  async claim(owner: string, limit: number, leaseMs: number): Promise<OutboxEvent[]> {
    const now = Date.now();
    const rows = this.#bookkeeping(() => this.#claim.all(owner, now + leaseMs, now, limit));
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map((r) => ({ id: r.event_id, key: r.msg_key, event: JSON.parse(r.payload) as OutboxEvent['event'] }));
  }

  async complete(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) this.#bookkeeping(() => this.#complete.run(JSON.stringify(ids)));
  }

  async release(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) this.#bookkeeping(() => this.#release.run(JSON.stringify(ids)));
  }

  #bookkeeping<T>(fn: () => T): T {
    if (!this.#durable) return guardSqlite(fn);
    this.#db.pragma('synchronous = NORMAL');
    try {
      return guardSqlite(fn);
    } finally {
      this.#db.pragma('synchronous = FULL');
    }
  }

  async stats(): Promise<OutboxStats> {
    const row = guardSqlite(() => this.#stats.get());
    return { pending: row?.pending ?? 0, oldestCreatedAt: row?.oldest ?? null };
  }
}

function guardSqlite<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Database.SqliteError) throw new StoreUnavailableError(undefined, err);
    throw err;
  }
}
