/**
 * The SQLite backend of the storage ports (ports.ts): one SQLite file (WAL), one table per entity
 * type. Reads run directly on the calling thread; writes and deletes go through the group-commit
 * queue (group-commit.ts), each together with its outbox event in the same transaction.
 *
 * What a write or merge does inside its transaction is the write protocol (write-protocol.ts).
 */
import type { Database as Db } from 'better-sqlite3';
import { StoreUnavailableError } from '../../errors.js';
import type { ComputeHistoryEntry, FeatureRecord, OutboxEvent } from '../../model.js';
import { normalizeTimestamp } from '../../timestamps.js';
import type {
  ComputeJobPage,
  ComputeJobQuery,
  DeleteRecordInput,
  ExpiredRecordSweeper,
  FeatureStore,
  CategoryListPage,
  CategoryListQuery,
  MergeRecordInput,
  MergeResult,
  OutboxStore,
  RecordKey,
  RecordVersions,
  RollbackStateStore,
  StoreHealth,
  StoredRecord,
  WriteRecordInput,
  WriteResult,
} from '../ports.js';
import { guardFor, type Guard } from './errors.js';
import { GroupCommit } from './group-commit.js';
import { SqliteComputeJobs } from './compute-jobs.js';
import { eventInserter, SqliteOutbox } from './outbox.js';
import { ThreadOutbox } from './outbox-thread.js';
import { SqliteRollbacks } from './rollbacks.js';
import { SqliteVersions } from './versions.js';
import { Checkpointer } from './checkpointer.js';
import { WriteTurns } from './write-turns.js';
import { migrate, openDatabase, type Synchronous } from './schema.js';
import { readKeys } from './batch-read.js';
import { EntityReads } from './entity-read.js';
import { applyMerge, applyWrite, type WriteContext } from './write-protocol.js';
import { columnsToRecord, columnsToStored, textToStored, toRecord, type RowReader } from './rows.js';
import { prepareTable, type ComputeJobRow, type TableStatements } from './statements.js';

export interface SqliteStoreOptions {
  /** Database file; created with its directory on first start. */
  path: string;
  /** Entity type → table name. */
  entityTables: Readonly<Record<string, string>>;
  /** `full` (default) fsyncs every commit; `normal` survives process crashes but not power loss. */
  synchronous?: Synchronous;
}

/**
 * How often the checkpointer thread copies the WAL into the database file (checkpointer.ts):
 * measured 200, 1,000 and 2,000 ms, 2,000 copied the fewest pages per write.
 */
const CHECKPOINT_INTERVAL_MS = 2_000;

export class SqliteStore implements FeatureStore {
  readonly type = 'sqlite';
  readonly outbox: OutboxStore;
  readonly computeJobs: SqliteComputeJobs;
  readonly rollbacks: RollbackStateStore;
  readonly #versions: SqliteVersions;
  readonly #db: Db;
  readonly #guard: Guard;
  readonly #commits: GroupCommit;
  readonly #tables = new Map<string, TableStatements>();
  /** Entity type → the multi-read of one entity's categories (entity-read.ts). */
  readonly #entityReads = new Map<string, EntityReads>();
  readonly #tableNames: readonly string[];
  readonly #checkpointer: Checkpointer;
  readonly #writes: WriteContext;
  /** Inserts a change event in the calling write's transaction (outbox.ts `eventInserter`). */
  readonly #recordEvent: (event: OutboxEvent) => void;
  /** Runs `read` in one (deferred, so read-only) transaction: its statements read one snapshot. */
  readonly #inReadTransaction: <T>(read: () => T) => T;
  #closed = false;

  /** Opens (creating and migrating if needed) the database. */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    let db: Db;
    try {
      db = openDatabase(options.path, options.synchronous ?? 'full');
      migrate(db, Object.values(options.entityTables));
    } catch (err) {
      throw new StoreUnavailableError(`Cannot open SQLite database at ${options.path}`, err);
    }
    return new SqliteStore(db, options);
  }

  private constructor(db: Db, options: SqliteStoreOptions) {
    this.#db = db;
    this.#guard = guardFor(db);
    // Commits and the bookkeeping thread's outbox writes take turns at the lock (write-turns.ts).
    const turns = new WriteTurns();
    this.#commits = new GroupCommit(db, this.#guard, turns);
    this.#tableNames = Object.values(options.entityTables);
    for (const [entityType, table] of Object.entries(options.entityTables)) {
      this.#tables.set(entityType, prepareTable(db, table));
      this.#entityReads.set(entityType, new EntityReads(db, table));
    }
    this.computeJobs = new SqliteComputeJobs(db, this.#guard);
    this.rollbacks = new SqliteRollbacks(db, this.#guard);
    this.#versions = new SqliteVersions(db, this.#tableNames);
    this.#recordEvent = eventInserter(db);
    this.#writes = { versions: this.#versions, recordEvent: this.#recordEvent };
    const readTransaction = db.transaction((read: () => unknown) => read());
    this.#inReadTransaction = <T>(read: () => T): T => readTransaction(read) as T;
    this.#checkpointer = new Checkpointer(db, options.path, CHECKPOINT_INTERVAL_MS, turns);
    // The relay's bookkeeping runs on the checkpointer's thread; on this connection only if that
    // thread is gone (outbox-thread.ts).
    this.outbox = new ThreadOutbox(this.#checkpointer, new SqliteOutbox(db, options.synchronous !== 'normal', this.#guard, this.computeJobs));
  }

  async getRecords(keys: readonly RecordKey[]): Promise<(FeatureRecord | undefined)[]> {
    return this.getRecordsNow(keys);
  }

  getRecordsNow(keys: readonly RecordKey[]): (FeatureRecord | undefined)[] {
    return this.#read(keys, columnsToRecord);
  }

  getStoredNow(keys: readonly RecordKey[]): (StoredRecord | undefined)[] {
    return this.#read(keys, columnsToStored, textToStored);
  }

  /** The rows of `keys`, aligned to them, each made what `readRow` makes of it (a record, or its stored text). */
  #read<T>(keys: readonly RecordKey[], readRow: RowReader<T>, readText?: (text: string) => T): (T | undefined)[] {
    if (keys.length === 1) {
      // The hot path: one point read on the prepared statement, no JSON key array.
      const key = keys[0] as RecordKey;
      const row = this.#guard(() => this.#statements(key.entityType).get.get(key.entityValue, key.category));
      return [row === undefined ? undefined : readRow(key, row, 0)];
    }
    const first = keys[0];
    if (first === undefined) return [];
    if (keys.every((key) => key.entityType === first.entityType)) {
      // A multi-read: a few categories of one entity, one statement (entity-read.ts).
      const entity = this.#entityReads.get(first.entityType);
      if (entity !== undefined && EntityReads.fits(keys)) return this.#guard(() => (readText === undefined ? entity.read(keys, readRow) : entity.readText(keys, readText)));
      return this.#guard(() => readKeys(this.#statements(first.entityType), keys, this.#inReadTransaction, readRow, readText));
    }
    const result = new Array<T | undefined>(keys.length).fill(undefined);
    // One statement per entity type (batch-read.ts); `positions[j]` is the input index of its j-th key.
    const byType = new Map<string, { keys: RecordKey[]; positions: number[] }>();
    keys.forEach((key, i) => {
      let group = byType.get(key.entityType);
      if (group === undefined) byType.set(key.entityType, (group = { keys: [], positions: [] }));
      group.keys.push(key);
      group.positions.push(i);
    });
    for (const [entityType, group] of byType) {
      const rows = this.#guard(() => readKeys(this.#statements(entityType), group.keys, this.#inReadTransaction, readRow, readText));
      rows.forEach((row, j) => (result[group.positions[j] as number] = row));
    }
    return result;
  }

  async getComputeHistory(key: RecordKey, limit: number): Promise<ComputeHistoryEntry[] | undefined> {
    const row = this.#guard(() => this.#statements(key.entityType).history.get(key.entityValue, key.category));
    if (row === undefined) return undefined;
    if (row.compute_history === null) return [];
    return (JSON.parse(row.compute_history) as ComputeHistoryEntry[]).slice(0, limit);
  }

  async getVersions(key: RecordKey, limit: number): Promise<RecordVersions | undefined> {
    const s = this.#statements(key.entityType);
    return this.#guard(() => {
      // One read transaction, so the record and its versions are of the same moment.
      const read = this.#db.transaction(() => {
        const row = s.get.get(key.entityValue, key.category);
        if (row === undefined) return undefined;
        return { record: columnsToRecord(key, row), earlier: this.#versions.list(s.table, key, limit) };
      });
      return read();
    });
  }

  async findByComputeId(query: ComputeJobQuery): Promise<ComputeJobPage> {
    const s = this.#statements(query.entityType);
    // One row more than asked tells whether more follow. '' sorts before every stored value
    // (entity values and categories are never empty).
    const after = query.after ?? { category: '', entityValue: '' };
    let rows: ComputeJobRow[];
    if (query.category === undefined) {
      rows = this.#guard(() => s.byComputeId.all(query.computeId, after.category, after.entityValue, query.limit + 1));
    } else if (after.category > query.category) {
      rows = []; // the page ended past this category
    } else {
      const from = after.category === query.category ? after.entityValue : '';
      rows = this.#guard(() => s.byComputeIdInCategory.all(query.computeId, query.category as string, from, query.limit + 1));
    }
    const records = rows.slice(0, query.limit).map((r) => ({
      entityType: query.entityType,
      entityValue: r.entity_value,
      category: r.category,
      updatedAt: normalizeTimestamp(r.updated_at),
    }));
    return { records, more: rows.length > query.limit };
  }

  async countByComputeId(entityType: string, computeId: string): Promise<number> {
    const s = this.#statements(entityType);
    return this.#guard(() => s.countByComputeId.get(computeId))?.n ?? 0;
  }

  async listCategory(query: CategoryListQuery): Promise<CategoryListPage> {
    const s = this.#statements(query.entityType);
    // One row more than asked tells whether more follow; '' sorts before every entity value.
    const rows = this.#guard(() => s.byCategory.all(query.category, query.after?.entityValue ?? '', query.limit + 1));
    const records = rows.slice(0, query.limit).map((r) => toRecord(query.entityType, r.entity_value, r));
    const last = records[records.length - 1];
    return { records, next: rows.length > query.limit && last !== undefined ? { entityValue: last.entityValue, category: last.category } : undefined };
  }

  async writeRecord(input: WriteRecordInput): Promise<WriteResult> {
    if (this.#closed) throw new StoreUnavailableError();
    const s = this.#statements(input.key.entityType); // an unconfigured entity type fails alone, not its batch
    return this.#commits.enqueue(() => applyWrite(s, input, this.#writes));
  }

  async mergeRecord(input: MergeRecordInput): Promise<MergeResult> {
    if (this.#closed) throw new StoreUnavailableError();
    const s = this.#statements(input.key.entityType);
    return this.#commits.enqueue(() => applyMerge(s, input, this.#writes));
  }

  async deleteRecord(input: DeleteRecordInput): Promise<FeatureRecord | undefined> {
    if (this.#closed) throw new StoreUnavailableError();
    const s = this.#statements(input.key.entityType);
    return this.#commits.enqueue(() => {
      const { entityType, entityValue, category } = input.key;
      if (input.onlyIfComputeId !== undefined && s.probeComputeId.get(entityValue, category)?.compute_id !== input.onlyIfComputeId) return undefined;
      const row = s.delete.get(entityValue, category);
      if (row === undefined) return undefined;
      this.#versions.drop(s.table, input.key);
      const deleted = toRecord(entityType, entityValue, row);
      if (input.event !== undefined) this.#recordEvent(input.event(deleted));
      return deleted;
    });
  }

  readonly sweeper: ExpiredRecordSweeper = {
    sweepExpired: async (input) => {
      if (this.#closed) throw new StoreUnavailableError();
      // One transaction through the group commit, so a sweep is ordered with the writes around
      // it: a record rewritten first has a later expiry and is not deleted.
      return this.#commits.enqueue(() => {
        let removed = 0;
        for (const [entityType, s] of this.#tables) {
          if (removed >= input.limit) break;
          for (const row of s.sweep.all(input.now, input.limit - removed)) {
            removed++;
            this.#versions.drop(s.table, { entityType, entityValue: row.entity_value, category: row.category });
            if (input.event !== undefined) this.#recordEvent(input.event(toRecord(entityType, row.entity_value, row)));
          }
        }
        return removed;
      });
    },
  };

  async health(): Promise<StoreHealth> {
    if (this.#closed) return { ok: false, tablesAvailable: [], error: 'store closed' };
    try {
      const existing = new Set(this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
      const tablesAvailable = this.#tableNames.filter((t) => existing.has(t));
      return { ok: tablesAvailable.length === this.#tableNames.length, tablesAvailable };
    } catch (err) {
      return { ok: false, tablesAvailable: [], error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Commits the writes and deletes already accepted, then closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#commits.close();
    await this.#checkpointer.close();
    this.#db.close();
  }

  #statements(entityType: string): TableStatements {
    const s = this.#tables.get(entityType);
    if (s === undefined) throw new Error(`SqliteStore: entity type '${entityType}' is not configured`);
    return s;
  }
}
