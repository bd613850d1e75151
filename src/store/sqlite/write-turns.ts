/**
 * Turns at the database file's write lock between the two connections of one process: the
 * store's (the event loop's group commits, group-commit.ts) and the bookkeeping thread's (the
 * relay's claim, complete and release, bookkeeping-worker.ts).
 *
 * Without them the two collide on SQLite's write lock, and the loser waits in SQLite's busy
 * handler, which SLEEPS in the calling thread (1, 2, 5, 10 … ms, however soon the lock is
 * free). On the thread that costs nothing; on the event loop it stops every request. Under the
 * bench's writes with events on, the event loop slept in it before ~30 % of its commits,
 * ~8 % of the time (docs/decisions/8-event-relay-cpu.md, round 4).
 *
 * So the two take turns through one shared cell before they begin a write transaction:
 * - the thread waits for its turn blocking (`inThread`: it is a thread, and what it waits for is
 *   a commit in progress on the event loop, a few milliseconds);
 * - the event loop never blocks: `takeForStore` takes the turn if it is free, and otherwise
 *   `whenFree` resolves once the thread let go (Atomics.waitAsync: no polling, no sleep), while
 *   requests keep arriving and join the waiting batch.
 *
 * The turns are a schedule, not the lock: SQLite's own locking still decides, with its busy
 * timeout, against other processes (`WORKERS`) and whenever a turn is not used — a thread that
 * died holding its turn (`releaseThread`), a wait that timed out, a store closing. Whatever
 * happens to the turns, no transaction runs without SQLite's write lock.
 */

const FREE = 0;
/** The store's connection (the event loop) holds the turn. */
const STORE = 1;
/** The bookkeeping thread's connection holds the turn. */
const THREAD = 2;

/** `Atomics.waitAsync` (Node 16+; its types come with TypeScript's es2024 library, not configured here). */
type WaitAsync = (
  cell: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync.bind(Atomics);

/** How long the thread waits per look at the cell, ms (it looks again until it has the turn). */
const THREAD_RECHECK_MS = 100;

export class WriteTurns {
  /** The cell both threads see; pass it to the thread (`new WriteTurns(buffer)` there). */
  readonly buffer: SharedArrayBuffer;
  readonly #cell: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.#cell = new Int32Array(buffer, 0, 1);
  }

  /** Event loop: takes the turn if it is free; false if the thread has it. Never blocks. */
  takeForStore(): boolean {
    return Atomics.compareExchange(this.#cell, 0, FREE, STORE) === FREE;
  }

  /** Event loop: ends the turn `takeForStore` took and wakes the thread if it waits. */
  releaseStore(): void {
    if (Atomics.compareExchange(this.#cell, 0, STORE, FREE) === STORE) Atomics.notify(this.#cell, 0);
  }

  /**
   * Event loop: resolves (on the event loop) once the thread's turn ended, or after `timeoutMs`
   * (true: the turn is free now; false: timed out). At once if the thread does not hold it.
   */
  async whenFree(timeoutMs: number): Promise<boolean> {
    const wait = waitAsync(this.#cell, 0, THREAD, timeoutMs);
    if (!wait.async) return wait.value !== 'timed-out';
    // waitAsync's own timeout does not keep the event loop alive (nor does a waiter): a timer does.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'timed-out'>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'timed-out')));
    const outcome = await Promise.race([wait.value, bound]);
    clearTimeout(timer);
    return outcome !== 'timed-out';
  }

  /**
   * Thread: runs `fn` in the thread's turn, waiting (blocking this thread) while the event loop
   * has it. Not reentrant: `fn` must not call `inThread` again.
   */
  inThread<T>(fn: () => T): T {
    while (Atomics.compareExchange(this.#cell, 0, FREE, THREAD) !== FREE) {
      Atomics.wait(this.#cell, 0, STORE, THREAD_RECHECK_MS);
    }
    try {
      return fn();
    } finally {
      this.releaseThread();
    }
  }

  /**
   * Ends the thread's turn if it holds one and wakes the event loop's wait. The thread calls it
   * after each turn; the store calls it when the thread ended, which may have been inside one.
   */
  releaseThread(): void {
    if (Atomics.compareExchange(this.#cell, 0, THREAD, FREE) === THREAD) Atomics.notify(this.#cell, 0);
  }
}
