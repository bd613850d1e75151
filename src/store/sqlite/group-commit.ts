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
 * Only WAL checkpoints and the relay's outbox bookkeeping run on a thread of their own
 * (checkpointer.ts), with a connection of their own: its writes and these commits take turns at
 * the write lock (write-turns.ts), so that a commit never sleeps in SQLite's busy handler on the
 * event loop waiting for the thread.
 */
import type { Database as Db } from 'better-sqlite3';
import { StoreUnavailableError } from '../../errors.js';
import type { Guard } from './errors.js';
import type { WriteTurns } from './write-turns.js';

/**
 * How long a batch waits for the bookkeeping thread's turn to end before it begins anyway and
 * leaves the waiting to SQLite's busy handler, ms. A turn is one claim, complete or release, or
 * the last pass of a WAL checkpoint round (milliseconds; bookkeeping-worker.ts); this bounds a
 * long pass, a thread that holds its turn while it waits for another process's lock, or one that
 * hangs.
 */
export const TURN_WAIT_MS = 50;

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

  readonly #turns: WriteTurns | undefined;
  readonly #turnWaitMs: number;
  /** A batch waits for the bookkeeping thread's turn to end (`#turns`). */
  #waiting = false;

  /**
   * `turns`: commits take turns with the bookkeeping thread (write-turns.ts); while the thread has
   * its turn, the batch waits on the event loop and the operations arriving meanwhile join it,
   * at most `turnWaitMs`.
   */
  constructor(db: Db, guard: Guard, turns?: WriteTurns, turnWaitMs = TURN_WAIT_MS) {
    this.#db = db;
    this.#guard = guard;
    this.#turns = turns;
    this.#turnWaitMs = turnWaitMs;
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
    this.#flush(true);
  }

  /**
   * Commits the pending operations. Without `force`, first takes the store's turn: if the
   * bookkeeping thread has it, the operations stay pending and the commit runs when the thread's
   * turn ended (or, after `turnWaitMs`, forced). Forced (a wait timed out, `close`), it begins
   * without a turn: SQLite's lock and busy handler decide, as they do against other processes.
   */
  readonly #flush = (force = false): void => {
    if (this.#pending.length === 0 || (this.#waiting && !force)) return;
    const turns = force ? undefined : this.#turns;
    if (turns !== undefined && !turns.takeForStore()) {
      this.#waiting = true;
      void turns.whenFree(this.#turnWaitMs).then((free) => {
        this.#waiting = false;
        this.#flush(!free);
      });
      return;
    }
    const batch = this.#pending;
    this.#pending = [];
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
    } finally {
      turns?.releaseStore();
    }
    batch.forEach((p, i) => p.resolve(results[i]));
  };
}
