/**
 * WAL checkpoints on a thread of their own. By default SQLite checkpoints from inside a commit
 * once the WAL passes 1,000 pages (4 MiB): whichever commit crosses that line — a request's group
 * commit or the relay's bookkeeping — copies every page of the WAL into the database file and
 * fsyncs it on the event loop. Under write load that was every ~200 writes, and about 12 of the
 * 30.6 KB the process wrote per write (docs/decisions/4-write-path-cpu.md).
 *
 * Here the store's connection only checkpoints as a backstop (`BACKSTOP_PAGES`, should this
 * thread fall behind or die), and a worker thread with its own connection to the same file runs
 * a PASSIVE checkpoint every `intervalMs`: it copies what no reader still needs and never waits
 * for a lock, so it cannot hold up a write. A page written many times between two checkpoints is
 * copied once: the longer the interval, the fewer copies (a 2 s interval copied 0.6 as many pages
 * as 200 ms under the bench's writes, docs/decisions/4-write-path-cpu.md), at the price of a
 * larger WAL file. Durability is unchanged: commits are durable in the WAL (`synchronous`), which
 * SQLite replays on open whatever the checkpoints did.
 *
 * The WAL file starts over from its beginning only when a write transaction begins with every
 * frame copied. Under steady writes the worker's checkpoint never ends with nothing left (commits
 * land while it copies), so the WAL would grow up to the backstop. After each of the worker's
 * checkpoints the store's connection therefore copies the tail itself, after its next commit
 * (`afterCommit`): the frames committed while the worker ran, a small part of the interval's.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database as Db, Statement } from 'better-sqlite3';
import type { Synchronous } from './schema.js';

/**
 * WAL pages (256 MiB) at which the store's own connection checkpoints anyway: above the WAL of
 * one interval at several thousand writes per second, so that it only acts if the worker fails.
 */
export const BACKSTOP_PAGES = 65_536;

/** The worker's code (CommonJS, evaluated): opens the file, checkpoints on a timer, closes on a message. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('wal_autocheckpoint = 0');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { return; /* busy or gone: the next tick tries again */ }
  parentPort.postMessage('checkpointed');
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  readonly #checkpoint: Statement<[]>;
  /** The worker finished a checkpoint since the last `afterCommit`: the tail is to be copied. */
  #tailDue = false;

  /** Starts checkpointing `path`; sets the backstop on `db`, the store's connection. */
  constructor(db: Db, path: string, synchronous: Synchronous, intervalMs: number) {
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    this.#checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER, {
      eval: true,
      workerData: { driver, path, synchronous: synchronous === 'normal' ? 'NORMAL' : 'FULL', intervalMs },
    });
    this.#worker.unref();
    // A worker that fails (cannot open the file) leaves the backstop to checkpoint.
    this.#worker.on('error', () => undefined);
    this.#worker.on('message', () => (this.#tailDue = true));
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
  }

  /**
   * Called by the store after each of its commits: once per worker checkpoint, copies the frames
   * committed since (PASSIVE, on the store's connection), so that the next write transaction
   * begins with the WAL fully copied and starts it over. A failure leaves it to the next round.
   */
  afterCommit(): void {
    if (!this.#tailDue) return;
    this.#tailDue = false;
    try {
      this.#checkpoint.all();
    } catch {
      // busy (the worker is checkpointing again) or failing: the backstop remains
    }
  }

  /** Stops the worker and closes its connection (before the store's, so the last close checkpoints). */
  async close(): Promise<void> {
    // Unreferenced while it runs (it must not keep the process alive); referenced while closing,
    // or the event loop could end with the store's close still waiting for the exit.
    this.#worker.ref();
    this.#worker.postMessage('close');
    await this.#exited;
  }
}
