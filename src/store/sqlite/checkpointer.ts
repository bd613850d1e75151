/**
 * WAL checkpoints on a thread of their own. By default SQLite checkpoints from inside a commit
 * once the WAL passes 1,000 pages (4 MiB): whichever commit crosses that line — a request's group
 * commit or the relay's bookkeeping — copies every page of the WAL into the database file and
 * fsyncs it on the event loop. Under write load that was every ~200 writes, and about 12 of the
 * 30.6 KB the process wrote per write (docs/decisions/4-write-path-cpu.md).
 *
 * Here the store's connection only checkpoints as a backstop (`BACKSTOP_PAGES`, should this
 * thread fall behind or die), and a worker thread with its own connection to the same file runs
 * PASSIVE checkpoints every `intervalMs`: they copy what no reader still needs and never wait for
 * a lock, so they do not block a write (only the round's last pass delays commits, below). A page written many times between two checkpoints is
 * copied once: the longer the interval, the fewer copies (a 2 s interval copied 0.6 as many pages
 * as 200 ms under the bench's writes, docs/decisions/4-write-path-cpu.md), at the price of a
 * larger WAL file. Durability is unchanged: commits are durable in the WAL (`synchronous`), which
 * SQLite replays on open whatever the checkpoints did.
 *
 * The WAL file starts over from its beginning only when a write transaction begins with every
 * frame copied. Under steady writes a checkpoint never ends with nothing left (commits land while
 * it copies), so the WAL would grow up to the backstop. So each round the worker copies again
 * what was committed during its last pass, until a pass is short, and runs a last pass in the
 * write turn (write-turns.ts), which the store's commits wait for on the event loop without
 * blocking it (bookkeeping-worker.ts `checkpointWal`). The store's connection copies nothing
 * itself: a copy on it blocked the event loop for the database file's fsync, 50–65 ms every
 * round under the bench's writes, up to 73 ms (docs/decisions/4-write-path-cpu.md, round 5).
 *
 * The same thread runs the relay's outbox bookkeeping on its connection (`request`, for
 * outbox-thread.ts; the thread's code is bookkeeping-worker.ts).
 */
import type { Worker } from 'node:worker_threads';
import type { Database as Db } from 'better-sqlite3';
import { StoreUnavailableError } from '../../errors.js';
import { moduleBeside, startWorker } from '../../worker-thread.js';
import {
  CLOSE,
  type BookkeepingReply,
  type BookkeepingRequest,
  type BookkeepingValue,
  type BookkeepingWorkerData,
} from './bookkeeping-protocol.js';
import { WriteTurns } from './write-turns.js';

/**
 * WAL pages (256 MiB) at which the store's own connection checkpoints anyway: above the WAL of
 * one interval at several thousand writes per second, so that it only acts if the worker fails.
 */
export const BACKSTOP_PAGES = 65_536;

/**
 * The thread's heap limits, MiB. Its live data is one claimed round (at most
 * `OUTBOX_BATCH_SIZE` events) and the prepared statements; a young generation sized like the
 * main thread's (up to 3 × 16 MiB) would be resident memory for nothing. A thread that
 * outgrows them dies, and the store carries on without it (`ThreadOutbox`, the backstop).
 */
const LIMITS = Object.freeze({ maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 });

/** A request without its id (assigned by `request`). */
export type BookkeepingCall = BookkeepingRequest extends infer R ? (R extends BookkeepingRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve(value: BookkeepingValue): void;
  reject(err: Error): void;
}

export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** The thread exited or failed: requests are refused (the caller does the work itself). */
  #gone = false;
  /** `close` was called: the thread stays referenced until it exited. */
  #closing = false;
  readonly #turns: WriteTurns;

  /**
   * Starts checkpointing `path`; sets the backstop on `db`, the store's connection. The thread's
   * outbox writes take `turns` with the store's commits (write-turns.ts).
   */
  constructor(db: Db, path: string, intervalMs: number, turns: WriteTurns = new WriteTurns()) {
    this.#turns = turns;
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    // The thread's connection runs NORMAL whatever the store's setting (bookkeeping-worker.ts):
    // with it WAL checkpoints sync as with FULL.
    const workerData: BookkeepingWorkerData = { path, checkpointIntervalMs: intervalMs, turns: turns.buffer };
    this.#worker = startWorker(moduleBeside(import.meta.url, 'bookkeeping-worker'), workerData, LIMITS);
    this.#worker.unref();
    // A worker that fails (cannot open the file, runs out of memory) leaves the backstop to
    // checkpoint and the outbox to the store's connection.
    this.#worker.on('error', () => this.#end());
    this.#worker.on('message', (message: BookkeepingReply) => {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      if (this.#pending.size === 0 && !this.#closing) this.#worker.unref();
      if ('failure' in message) {
        const { message: text, unavailable } = message.failure;
        pending.reject(unavailable ? new StoreUnavailableError(text) : new Error(text));
      } else pending.resolve(message.value);
    });
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', () => {
        this.#end();
        resolve();
      }),
    );
  }

  /** Whether the thread takes requests (false once it exited or failed). */
  get available(): boolean {
    return !this.#gone;
  }

  /**
   * Runs an outbox operation on the thread's connection. Rejects with `StoreUnavailableError`
   * if the thread is gone or dies before it answers (whether the operation took effect is then
   * unknown, as after any failed bookkeeping commit).
   */
  request(call: BookkeepingCall): Promise<BookkeepingValue> {
    if (this.#gone) return Promise.reject(new StoreUnavailableError('the store\'s bookkeeping thread is gone'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Referenced while a request waits: a pending answer keeps the process alive.
      this.#worker.ref();
      this.#worker.postMessage({ ...call, id });
    });
  }

  /** Stops the worker and closes its connection (before the store's, so the last close checkpoints). */
  async close(): Promise<void> {
    // Unreferenced while it runs (it must not keep the process alive); referenced while closing,
    // or the event loop could end with the store's close still waiting for the exit.
    this.#closing = true;
    this.#worker.ref();
    this.#worker.postMessage(CLOSE);
    await this.#exited;
  }

  /** Marks the thread gone and fails what it had not answered. */
  #end(): void {
    this.#gone = true;
    // A thread that died inside its turn never ended it: the store's commits must not wait for it.
    this.#turns.releaseThread();
    for (const pending of this.#pending.values()) pending.reject(new StoreUnavailableError('the store\'s bookkeeping thread ended'));
    this.#pending.clear();
  }
}
