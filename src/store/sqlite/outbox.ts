/**
 * SqliteOutbox: the outbox port on the store's connection. Events are inserted by the record
 * writes (records.ts); this class only leases, completes and releases them. Behaviour unchanged
 * from the single-file store.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import { outboxEventOfText, type FeatureEvent, type OutboxEvent } from '../../model.js';
import type { OutboxStats, OutboxStore } from '../ports.js';
import { countedWriteOf, countedWriteOfFields, JobWritesSum, type CountedWrite } from '../job-writes.js';
import type { SqliteComputeJobs } from './compute-jobs.js';
import type { Guard } from './errors.js';

interface OutboxRow {
  seq: number;
  event_id: string;
  msg_key: string;
  payload: string;
  /**
   * What the job statistics count of the event, stored beside it by the write (schema v10):
   * NULL compute id when the event does not count. `created_at` is the event's timestamp.
   */
  job_compute_id: string | null;
  job_entity_type: string | null;
  job_category: string | null;
  created_at: string;
}

/**
 * Inserts an event into the outbox (in the calling write's transaction) with what the job
 * statistics count of it (`countedWriteOf`): its compute id, entity type and category, NULLs if
 * it does not count.
 */
export function eventInserter(db: Db): (event: OutboxEvent) => void {
  const insert = db.prepare<[string, string, string, string, string | null, string | null, string | null]>(
    `INSERT INTO outbox (event_id, msg_key, payload, created_at, job_compute_id, job_entity_type, job_category)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  return ({ id, key, event }) => {
    const counted = countedWriteOf(event);
    insert.run(id, key, JSON.stringify(event), event.timestamp, counted?.computeId ?? null, counted?.entityType ?? null, counted?.category ?? null);
  };
}

/**
 * The outbox. Its bookkeeping (leases, deletions) commits without waiting for fsync even when
 * the store runs with `synchronous = FULL`: losing one of these commits to a power cut can only
 * make an event be published again (consumers dedupe by `event_id`), never lose one. The events
 * themselves are inserted by `writeRecord` and `deleteRecord`, in the record's durable
 * transaction; and since the WAL is sequential, the next durable commit makes the earlier ones durable too.
 */
export class SqliteOutbox implements OutboxStore {
  readonly #claim: Statement<[string, number, number, number], OutboxRow>;
  readonly #complete: Statement<[string, string], { event_id: string }>;
  readonly #release: Statement<[string, string]>;
  readonly #completeById: Statement<[string], { payload: string }>;
  readonly #releaseById: Statement<[string]>;
  readonly #stats: Statement<[], { pending: number; oldest: string | null }>;
  readonly #db: Db;
  readonly #durable: boolean;
  readonly #guard: Guard;
  readonly #jobs: SqliteComputeJobs;
  readonly #syncNormal: Statement<[]>;
  readonly #syncFull: Statement<[]>;
  readonly #exclusive: <T>(write: () => T) => T;
  /**
   * The events this process claimed by event_id, with their seq, so that they are addressed by
   * primary key, and the write each counts for its job's statistics (from the claim's columns:
   * the payload is not parsed at all).
   */
  readonly #claimed = new Map<string, { seq: number; write: CountedWrite | undefined }>();

  /**
   * `exclusive` wraps each of its write transactions (claim, complete, release): on the
   * bookkeeping thread, the thread's turn at the write lock (write-turns.ts).
   */
  constructor(db: Db, durable: boolean, guard: Guard, jobs: SqliteComputeJobs, exclusive: <T>(write: () => T) => T = (write) => write()) {
    this.#db = db;
    this.#exclusive = exclusive;
    this.#jobs = jobs;
    this.#durable = durable;
    this.#guard = guard;
    this.#claim = db.prepare(
      `UPDATE outbox SET lease_owner = ?, lease_until = ?
       WHERE seq IN (SELECT seq FROM outbox WHERE lease_until <= ? ORDER BY seq LIMIT ?)
       RETURNING seq, event_id, msg_key, payload, job_compute_id, job_entity_type, job_category, created_at`,
    );
    // Ids travel as JSON array parameters: one statement per batch, whatever its size. Rows are
    // found by seq, and the event id must match too: a seq freed by another relay's delete can
    // be reused by a new event, which must not be touched.
    const mine = 'seq IN (SELECT value FROM json_each(?)) AND event_id IN (SELECT value FROM json_each(?))';
    // A delete returns what it removed: exactly those events are counted in the job statistics,
    // in the delete's transaction (an event another relay removed first is not). For the events
    // claimed here the ids suffice (their parsed events are at hand).
    this.#complete = db.prepare(`DELETE FROM outbox WHERE ${mine} RETURNING event_id`);
    this.#release = db.prepare(`UPDATE outbox SET lease_owner = NULL, lease_until = 0 WHERE ${mine}`);
    // Events claimed by another process (or before a restart) are found by id: a scan, but rare.
    this.#completeById = db.prepare('DELETE FROM outbox WHERE event_id IN (SELECT value FROM json_each(?)) RETURNING payload');
    this.#releaseById = db.prepare(
      'UPDATE outbox SET lease_owner = NULL, lease_until = 0 WHERE event_id IN (SELECT value FROM json_each(?))',
    );
    this.#stats = db.prepare('SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox');
    // Prepared once: `db.pragma()` prepares its statement on every call, twice per bookkeeping step.
    this.#syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
    this.#syncFull = db.prepare('PRAGMA synchronous = FULL');
  }

  async claim(owner: string, limit: number, leaseMs: number): Promise<OutboxEvent[]> {
    const now = Date.now();
    const rows = this.#bookkeeping(() => this.#claim.all(owner, now + leaseMs, now, limit));
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map((r) => {
      const write = r.job_compute_id === null ? undefined : countedWriteOfFields('feature_available', r.job_compute_id, r.job_entity_type, r.job_category, r.created_at);
      this.#claimed.set(r.event_id, { seq: r.seq, write });
      return outboxEventOfText(r.event_id, r.msg_key, r.payload);
    });
  }

  async complete(ids: readonly string[]): Promise<void> {
    const { seqs, known, unknown } = this.#split(ids);
    this.#bookkeeping(() =>
      this.#db.transaction(() => {
        const deleted = new JobWritesSum();
        if (seqs.length > 0) {
          for (const row of this.#complete.all(JSON.stringify(seqs), JSON.stringify(known))) {
            const write = this.#claimed.get(row.event_id)?.write;
            if (write !== undefined) deleted.add(write);
          }
        }
        if (unknown.length > 0) {
          for (const row of this.#completeById.all(JSON.stringify(unknown))) deleted.addEvent(JSON.parse(row.payload) as FeatureEvent);
        }
        this.#jobs.addNow(deleted.drain());
      })(),
    );
    for (const id of ids) this.#claimed.delete(id);
  }

  async release(ids: readonly string[]): Promise<void> {
    const { seqs, known, unknown } = this.#split(ids);
    if (seqs.length > 0) this.#bookkeeping(() => this.#release.run(JSON.stringify(seqs), JSON.stringify(known)));
    if (unknown.length > 0) this.#bookkeeping(() => this.#releaseById.run(JSON.stringify(unknown)));
    for (const id of ids) this.#claimed.delete(id);
  }

  async stats(): Promise<OutboxStats> {
    const row = this.#guard(() => this.#stats.get());
    return { pending: row?.pending ?? 0, oldestCreatedAt: row?.oldest ?? null };
  }

  /** The ids this process claimed (with their seqs) and the others. */
  #split(ids: readonly string[]): { seqs: number[]; known: string[]; unknown: string[] } {
    const seqs: number[] = [];
    const known: string[] = [];
    const unknown: string[] = [];
    for (const id of ids) {
      const claimed = this.#claimed.get(id);
      if (claimed === undefined) unknown.push(id);
      else {
        seqs.push(claimed.seq);
        known.push(id);
      }
    }
    return { seqs, known, unknown };
  }

  #bookkeeping<T>(fn: () => T): T {
    return this.#exclusive(() => this.#syncedNormal(fn));
  }

  #syncedNormal<T>(fn: () => T): T {
    if (!this.#durable) return this.#guard(fn);
    return this.#guard(() => {
      this.#syncNormal.run();
      try {
        return fn();
      } finally {
        this.#syncFull.run();
      }
    });
  }
}
