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
 * copied once. Durability is unchanged: commits are durable in the WAL (`synchronous`), which
 * SQLite replays on open whatever the checkpoints did.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database as Db } from 'better-sqlite3';
import type { Synchronous } from './schema.js';

/** WAL pages (64 MiB) at which the store's own connection checkpoints anyway. */
export const BACKSTOP_PAGES = 16_384;

/** The worker's code (CommonJS, evaluated): opens the file, checkpoints on a timer, closes on a message. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('wal_autocheckpoint = 0');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or gone: the next tick tries again */ }
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

  /** Starts checkpointing `path`; sets the backstop on `db`, the store's connection. */
  constructor(db: Db, path: string, synchronous: Synchronous, intervalMs: number) {
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER, {
      eval: true,
      workerData: { driver, path, synchronous: synchronous === 'normal' ? 'NORMAL' : 'FULL', intervalMs },
    });
    this.#worker.unref();
    // A worker that fails (cannot open the file) leaves the backstop to checkpoint.
    this.#worker.on('error', () => undefined);
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
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
