/**
 * The write protocol. Group commit: operations (writes and deletes) that arrive in the same turn
 * of the event loop are committed in one transaction, so concurrent writers share one fsync
 * instead of paying one each (under load a commit carries tens of writes: while one commits, the
 * next turn's requests gather). An operation's promise resolves only after its transaction
 * committed; if the transaction fails, every operation in it is rejected and none of them is
 * stored. Operations run in arrival order, so a delete is ordered with the writes around it, and
 * whatever one operation does (a record and its outbox event) is durable together or not at all.
 *
 * Everything runs on the calling thread: better-sqlite3 is synchronous and a point read or an
 * upsert takes microseconds. A writer thread was tried (commits off the event loop) and measured
 * slower on 2 cores with more memory: the message passing cost more than the fsync it moved.
 * Only WAL checkpoints run on a thread of their own (checkpointer.ts): one message per checkpoint.
 */
import type { Database as Db } from 'better-sqlite3';
import { StoreUnavailableError } from '../../errors.js';
import type { Guard } from './errors.js';

interface Pending {
  /** Runs inside the batch's transaction; synchronous, so nothing interleaves with it. */
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  readonly #db: Db;
  readonly #guard: Guard;
  #pending: Pending[] = [];
  #closed = false;

  readonly #afterCommit: () => void;

  /** `afterCommit` runs after each successful commit, before the batch's promises resolve. */
  constructor(db: Db, guard: Guard, afterCommit: () => void = () => undefined) {
    this.#db = db;
    this.#guard = guard;
    this.#afterCommit = afterCommit;
  }

  /** Queues `op` for the next commit; resolves with its result once that commit is durable. */
  enqueue<T>(op: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError());
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { run: op, resolve: resolve as (value: unknown) => void, reject };
      if (this.#pending.push(pending) === 1) setImmediate(this.#flush);
    });
  }

  /** Commits what was accepted; later `enqueue` calls reject with `StoreUnavailableError`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flush();
  }

  readonly #flush = (): void => {
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    let results: unknown[];
    try {
      // IMMEDIATE: the write lock is taken at BEGIN, waiting up to the busy timeout. A deferred
      // transaction that reads first (a write checks the stored event time) could not upgrade
      // to writing once another process (`WORKERS`) committed since its read began
      // (SQLITE_BUSY_SNAPSHOT, no waiting); with one process it makes no difference.
      results = this.#guard(() => this.#db.transaction(() => batch.map((p) => p.run())).immediate());
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    this.#afterCommit();
    batch.forEach((p, i) => p.resolve(results[i]));
  };
}
