import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { StoreUnavailableError } from '../errors.js';
import type { FeatureMap, FeatureRecord, OutboxEvent, RecordMeta } from '../model.js';
import { normalizeTimestamp } from '../timestamps.js';
import type { FeatureStore, OutboxStats, OutboxStore, StoreHealth, WriteCategoryInput } from './feature-store.js';
import { migrate, openDatabase, quote, type Synchronous } from './sqlite-schema.js';
import type { ClaimedRow, RowWrite, WriterCommand, WriterInit, WriterRequest, WriterResponse, WriterResult } from './sqlite-writer-protocol.js';

export interface SqliteStoreOptions {
  /** Database file; created with its directory on first start. */
  path: string;
  /** Entity type → table name. */
  entityTables: Readonly<Record<string, string>>;
  /** `full` (default) fsyncs every commit; `normal` survives process crashes but not power loss. */
  synchronous?: Synchronous;
}

interface Row {
  category: string;
  data: string;
  created_at: string;
  updated_at: string;
  compute_id: string | null;
}

interface PendingWrite {
  write: RowWrite;
  resolve: (createdAt: string) => void;
  reject: (err: unknown) => void;
}

interface TableReads {
  table: string;
  get: Statement<[string, string], Row>;
  /** `WHERE category IN (?, …)` statements by number of categories. */
  getMany: Map<number, Statement<string[], Row>>;
}

// The writer runs from the same directory as this module: .js when built, .ts under tsx (tests,
// bench), where the thread needs tsx's loader too.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WRITER_URL = new URL(`./sqlite-writer${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

function startWriter(workerData: WriterInit): Worker {
  if (!FROM_SOURCE) return new Worker(WRITER_URL, { workerData });
  // Under tsx (tests, bench) the thread registers tsx's loader itself, then loads the writer.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(WRITER_URL.href);
  return new Worker(`import(${tsx}).then((t) => { t.register(); return import(${entry}); })`, { eval: true, workerData });
}

/**
 * The embedded default backend: one SQLite file (WAL), one table per entity type.
 *
 * Reads run on the calling thread (a point read is a few µs). Writes go to a writer thread
 * (sqlite-writer.ts) that owns the only writing connection, so commits and their fsync never
 * block the event loop. Group commit: writes that arrive in the same turn of the event loop are
 * sent as one batch and committed in one transaction — concurrent writers share one fsync. A
 * write's promise resolves only after its transaction committed; if the transaction fails,
 * every write in it is rejected and none of them is stored. A record's upsert and its outbox
 * event are in the same transaction, so they are durable together or not at all.
 */
export class SqliteStore implements FeatureStore {
  readonly type = 'sqlite';
  readonly outbox: OutboxStore;
  readonly #db: Db;
  readonly #worker: Worker;
  readonly #reads = new Map<string, TableReads>();
  readonly #tableNames: readonly string[];
  readonly #requests = new Map<number, { resolve: (r: WriterResult) => void; reject: (e: unknown) => void }>();
  #nextId = 1;
  #pending: PendingWrite[] = [];
  /** A write batch is at the writer thread. */
  #writing = false;
  #broken: Error | undefined;
  #closed: Promise<void> | undefined;

  /** Opens (creating and migrating if needed) the database and starts the writer thread. */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const synchronous = options.synchronous ?? 'full';
    const tables = Object.values(options.entityTables);
    let db: Db;
    try {
      db = openDatabase(options.path, synchronous);
      migrate(db, tables);
    } catch (err) {
      throw new StoreUnavailableError(`Cannot open SQLite database at ${options.path}`, err);
    }
    const worker = startWriter({ path: options.path, synchronous, tables });
    try {
      await new Promise<void>((resolve, reject) => {
        const onMessage = (m: WriterResponse): void => {
          if (m.id !== -1) return;
          worker.off('message', onMessage);
          if (m.ok) resolve();
          else reject(new Error(m.error.message));
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
      });
    } catch (err) {
      db.close();
      await worker.terminate();
      throw new StoreUnavailableError(`Cannot start the SQLite writer for ${options.path}`, err);
    }
    return new SqliteStore(db, worker, options.entityTables);
  }

  private constructor(db: Db, worker: Worker, entityTables: Readonly<Record<string, string>>) {
    this.#db = db;
    this.#worker = worker;
    this.#tableNames = Object.values(entityTables);
    for (const [entityType, table] of Object.entries(entityTables)) {
      this.#reads.set(entityType, {
        table,
        get: db.prepare(
          `SELECT category, data, created_at, updated_at, compute_id FROM ${quote(table)}
           WHERE entity_value = ? AND category = ?`,
        ),
        getMany: new Map(),
      });
    }
    worker.on('message', (m: WriterResponse) => this.#onResponse(m));
    worker.on('error', (err) => this.#fail(err));
    worker.on('exit', () => this.#fail(new Error('SQLite writer thread exited')));
    worker.unref();
    this.outbox = new SqliteOutbox(this, db);
  }

  /** Sends one request to the writer thread; resolves with its result. */
  request(message: WriterCommand): Promise<WriterResult> {
    if (this.#broken !== undefined) return Promise.reject(new StoreUnavailableError(undefined, this.#broken));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // The thread keeps the process alive only while it has work in hand.
      if (this.#requests.size === 0) this.#worker.ref();
      this.#requests.set(id, { resolve, reject });
      const request: WriterRequest = { ...message, id };
      this.#worker.postMessage(request);
    });
  }

  #onResponse(m: WriterResponse): void {
    const waiter = this.#requests.get(m.id);
    if (waiter === undefined) return;
    this.#requests.delete(m.id);
    if (this.#requests.size === 0 && this.#closed === undefined) this.#worker.unref();
    if (m.ok) waiter.resolve(m.result as WriterResult);
    else {
      const cause = Object.assign(new Error(m.error.message), { code: m.error.code });
      // Every SQLite error on the write path (busy, I/O, disk full, read-only) is infrastructure.
      waiter.reject(m.error.sqlite ? new StoreUnavailableError(undefined, cause) : cause);
    }
  }

  #fail(err: Error): void {
    this.#broken ??= err;
    for (const waiter of this.#requests.values()) waiter.reject(new StoreUnavailableError(undefined, err));
    this.#requests.clear();
  }

  /**
   * Sends the queued writes as one batch. At most one batch is at the writer at a time: writes
   * that arrive while it commits wait and go together in the next one, so under load every
   * commit (and fsync) carries many writes.
   */
  readonly #flush = (): void => {
    if (this.#writing || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#writing = true;
    this.request({ op: 'write', writes: batch.map((w) => w.write) })
      .then(
        (created) => batch.forEach((w, i) => w.resolve((created as string[])[i] as string)),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        this.#writing = false;
        this.#flush();
      });
  };

  async writeCategory(input: WriteCategoryInput): Promise<RecordMeta> {
    if (this.#closed !== undefined) throw new StoreUnavailableError();
    const reads = this.#tableReads(input.entityType);
    const write: RowWrite = {
      table: reads.table,
      entityValue: input.entityValue,
      category: input.category,
      data: JSON.stringify(input.data),
      now: input.now,
      computeId: input.computeId,
    };
    if (input.event !== undefined) {
      const { id, key, event } = input.event;
      write.event = { id, key, payload: JSON.stringify(event), createdAt: event.timestamp };
    }
    const createdAt = await new Promise<string>((resolve, reject) => {
      if (this.#pending.push({ write, resolve, reject }) === 1) setImmediate(this.#flush);
    });
    return { created_at: normalizeTimestamp(createdAt), updated_at: input.now, compute_id: input.computeId };
  }

  async getCategory(entityType: string, entityValue: string, category: string): Promise<FeatureRecord | undefined> {
    const row = this.read(() => this.#tableReads(entityType).get.get(entityValue, category));
    return row === undefined ? undefined : toRecord(entityType, entityValue, row);
  }

  async getCategories(entityType: string, entityValue: string, categories: readonly string[]): Promise<FeatureRecord[]> {
    if (categories.length === 0) return [];
    const reads = this.#tableReads(entityType);
    let stmt = reads.getMany.get(categories.length);
    if (stmt === undefined) {
      const placeholders = categories.map(() => '?').join(', ');
      stmt = this.#db.prepare(
        `SELECT category, data, created_at, updated_at, compute_id FROM ${quote(reads.table)}
         WHERE entity_value = ? AND category IN (${placeholders})`,
      );
      reads.getMany.set(categories.length, stmt);
    }
    const query = stmt;
    const rows = this.read(() => query.all(entityValue, ...categories));
    return rows.map((row) => toRecord(entityType, entityValue, row));
  }

  async health(): Promise<StoreHealth> {
    if (this.#broken !== undefined || this.#closed !== undefined) {
      return { ok: false, tablesAvailable: [], error: this.#broken?.message ?? 'store closed' };
    }
    try {
      const existing = new Set(
        (this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
      );
      const tablesAvailable = this.#tableNames.filter((t) => existing.has(t));
      return { ok: tablesAvailable.length === this.#tableNames.length, tablesAvailable };
    } catch (err) {
      return { ok: false, tablesAvailable: [], error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Commits what is queued, lets the writer finish and close its connection, then closes reads. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      // Let every accepted write commit first.
      this.#flush();
      while ((this.#writing || this.#pending.length > 0) && this.#broken === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      if (this.#broken === undefined) {
        this.#worker.ref();
        const exited = new Promise((resolve) => this.#worker.once('exit', resolve));
        await this.request({ op: 'close' }).catch(() => undefined);
        await exited;
      }
      this.#db.close();
    })();
    return this.#closed;
  }

  /** Runs a read on this thread's connection, mapping SQLite failures to `StoreUnavailableError`. */
  read<T>(fn: () => T): T {
    if (!this.#db.open) throw new StoreUnavailableError();
    try {
      return fn();
    } catch (err) {
      if (err instanceof Database.SqliteError) throw new StoreUnavailableError(undefined, err);
      throw err;
    }
  }

  #tableReads(entityType: string): TableReads {
    const reads = this.#reads.get(entityType);
    if (reads === undefined) throw new Error(`SqliteStore: entity type '${entityType}' is not configured`);
    return reads;
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

/** The outbox: leases and deletions go through the writer thread; stats are a read. */
class SqliteOutbox implements OutboxStore {
  readonly #store: SqliteStore;
  readonly #stats: Statement<[], { pending: number; oldest: string | null }>;

  constructor(store: SqliteStore, db: Db) {
    this.#store = store;
    this.#stats = db.prepare('SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox');
  }

  async claim(owner: string, limit: number, leaseMs: number): Promise<OutboxEvent[]> {
    const now = Date.now();
    const rows = (await this.#store.request({ op: 'claim', owner, leaseUntil: now + leaseMs, now, limit })) as ClaimedRow[];
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map((r) => ({ id: r.event_id, key: r.msg_key, event: JSON.parse(r.payload) as OutboxEvent['event'] }));
  }

  async complete(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.#store.request({ op: 'complete', ids: JSON.stringify(ids) });
  }

  async release(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.#store.request({ op: 'release', ids: JSON.stringify(ids) });
  }

  async stats(): Promise<OutboxStats> {
    const row = this.#store.read(() => this.#stats.get());
    return { pending: row?.pending ?? 0, oldestCreatedAt: row?.oldest ?? null };
  }
}
