/**
 * Per compute job statistics in SQLite (the `ComputeJobStatsStore` port): `compute_jobs` holds a
 * job's totals, `compute_job_writes` its writes per category and per entity type (schema v7).
 * `addNow` runs inside a caller's transaction: the outbox adds the statistics of the events it
 * deletes in the same transaction as the delete.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import { normalizeTimestamp } from '../../timestamps.js';
import type { ComputeJobStatsStore, JobListQuery, JobWrites } from '../ports.js';
import type { Guard } from './errors.js';

interface JobRow {
  compute_id: string;
  records_written: number;
  first_write_at: string;
  last_write_at: string;
}

interface WritesRow {
  compute_id: string;
  kind: 'category' | 'entity_type';
  name: string;
  writes: number;
}

const JOB_COLUMNS = 'compute_id, records_written, first_write_at, last_write_at';
// Row values order the list by (last_write_at, compute_id), newest first; the index serves it
// backwards. '\uffff' sorts after every stored value, so the first page needs no other statement.
const LIST = `SELECT ${JOB_COLUMNS} FROM compute_jobs INDEXED BY compute_jobs_by_last_write
  WHERE (last_write_at, compute_id) < (?, ?)`;
const IN_CATEGORY = `EXISTS (SELECT 1 FROM compute_job_writes w
  WHERE w.compute_id = compute_jobs.compute_id AND w.kind = 'category' AND w.name = ?)`;
const ORDER = 'ORDER BY last_write_at DESC, compute_id DESC LIMIT ?';

export class SqliteComputeJobs implements ComputeJobStatsStore {
  readonly #db: Db;
  readonly #guard: Guard;
  readonly #upsertJob: Statement<[string, number, string, string]>;
  readonly #upsertWrites: Statement<[string, string, string, number]>;
  readonly #get: Statement<[string], JobRow>;
  readonly #list: Statement<[string, string, number], JobRow>;
  readonly #listInCategory: Statement<[string, string, string, number], JobRow>;
  readonly #writesOf: Statement<[string], WritesRow>;

  constructor(db: Db, guard: Guard) {
    this.#db = db;
    this.#guard = guard;
    this.#upsertJob = db.prepare(
      `INSERT INTO compute_jobs (${JOB_COLUMNS}) VALUES (?, ?, ?, ?)
       ON CONFLICT (compute_id) DO UPDATE SET
         records_written = records_written + excluded.records_written,
         first_write_at = min(first_write_at, excluded.first_write_at),
         last_write_at = max(last_write_at, excluded.last_write_at)`,
    );
    this.#upsertWrites = db.prepare(
      `INSERT INTO compute_job_writes (compute_id, kind, name, writes) VALUES (?, ?, ?, ?)
       ON CONFLICT (compute_id, kind, name) DO UPDATE SET writes = writes + excluded.writes`,
    );
    this.#get = db.prepare(`SELECT ${JOB_COLUMNS} FROM compute_jobs WHERE compute_id = ?`);
    this.#list = db.prepare(`${LIST} ${ORDER}`);
    this.#listInCategory = db.prepare(`${LIST} AND ${IN_CATEGORY} ${ORDER}`);
    this.#writesOf = db.prepare(
      'SELECT compute_id, kind, name, writes FROM compute_job_writes WHERE compute_id IN (SELECT value FROM json_each(?)) ORDER BY name',
    );
  }

  async add(writes: readonly JobWrites[]): Promise<void> {
    if (writes.length === 0) return;
    this.#guard(() => this.#db.transaction(() => this.addNow(writes))());
  }

  /** `add` without a transaction of its own: call inside one. */
  addNow(writes: readonly JobWrites[]): void {
    for (const w of writes) {
      this.#upsertJob.run(w.computeId, w.writes, w.firstWriteAt, w.lastWriteAt);
      for (const [name, n] of Object.entries(w.categories)) this.#upsertWrites.run(w.computeId, 'category', name, n);
      for (const [name, n] of Object.entries(w.entityTypes)) this.#upsertWrites.run(w.computeId, 'entity_type', name, n);
    }
  }

  async get(computeId: string): Promise<JobWrites | undefined> {
    const row = this.#guard(() => this.#get.get(computeId));
    return row === undefined ? undefined : this.#withWrites([row])[0];
  }

  async list(query: JobListQuery): Promise<{ jobs: JobWrites[]; more: boolean }> {
    const after = query.after ?? { lastWriteAt: '\uffff', computeId: '' };
    // One row more than asked tells whether more follow.
    const rows = this.#guard(() =>
      query.category === undefined
        ? this.#list.all(after.lastWriteAt, after.computeId, query.limit + 1)
        : this.#listInCategory.all(after.lastWriteAt, after.computeId, query.category, query.limit + 1),
    );
    return { jobs: this.#withWrites(rows.slice(0, query.limit)), more: rows.length > query.limit };
  }

  #withWrites(rows: readonly JobRow[]): JobWrites[] {
    if (rows.length === 0) return [];
    const byJob = new Map<string, { categories: Record<string, number>; entityTypes: Record<string, number> }>();
    for (const r of rows) byJob.set(r.compute_id, { categories: {}, entityTypes: {} });
    const writes = this.#guard(() => this.#writesOf.all(JSON.stringify(rows.map((r) => r.compute_id))));
    for (const w of writes) {
      const job = byJob.get(w.compute_id);
      if (job !== undefined) (w.kind === 'category' ? job.categories : job.entityTypes)[w.name] = w.writes;
    }
    return rows.map((r) => ({
      computeId: r.compute_id,
      writes: r.records_written,
      firstWriteAt: normalizeTimestamp(r.first_write_at),
      lastWriteAt: normalizeTimestamp(r.last_write_at),
      categories: byJob.get(r.compute_id)?.categories ?? {},
      entityTypes: byJob.get(r.compute_id)?.entityTypes ?? {},
    }));
  }
}
