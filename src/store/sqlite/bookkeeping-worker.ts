/**
 * The store's bookkeeping thread: its own connection to the database file, on which it
 * checkpoints the WAL on a timer (checkpointer.ts says why) and runs the relay's outbox
 * operations — claim, complete with the job statistics, release, stats — for the store's
 * `ThreadOutbox` (outbox-thread.ts). The event loop that serves requests then only inserts each
 * event, in its write's transaction.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../../errors.js';
import { outboxEventText } from '../../model.js';
import {
  CLOSE,
  type BookkeepingReply,
  type BookkeepingRequest,
  type BookkeepingValue,
  type BookkeepingWorkerData,
} from './bookkeeping-protocol.js';
import { SqliteComputeJobs } from './compute-jobs.js';
import { guardFor } from './errors.js';
import { SqliteOutbox } from './outbox.js';
import { WriteTurns } from './write-turns.js';

/**
 * This connection's page cache, KiB. It reads the outbox's and the job statistics' pages, not
 * the records' (checkpoints copy WAL frames without the cache); the store's connection has
 * 32 MiB for those.
 */
const CACHE_KIB = 2_048;

const data = workerData as BookkeepingWorkerData;
const port = parentPort;
if (port === null) throw new Error('bookkeeping-worker runs as a worker thread');

const db = new Database(data.path);
// Outbox bookkeeping commits with NORMAL: losing one of its commits to a power cut can only make
// an event be published again, never lose one (outbox.ts). Checkpoints sync the WAL and the file
// with NORMAL as with FULL.
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.pragma(`cache_size = -${CACHE_KIB}`);
db.pragma('wal_autocheckpoint = 0');
const guard = guardFor(db);
// The outbox's writes wait for the thread's turn, so that the event loop's commits never meet
// them at the write lock (write-turns.ts). Checkpoints need no turn (PASSIVE takes no write lock)
// except the last pass of each round (`checkpointWal`).
const turns = new WriteTurns(data.turns);
const outbox = new SqliteOutbox(db, false, guard, new SqliteComputeJobs(db, guard), (write) => turns.inThread(write));
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

/**
 * A checkpoint pass that took longer than this, ms, is followed by another one outside the turn:
 * the store's commits do not wait for the last pass longer than about the one before it took.
 */
const TURN_PASS_MS = 5;
/** Passes outside the turn per round at most (the first one copies the interval's WAL). */
const MAX_PASSES = 4;

/** One PASSIVE pass; its duration, ms. */
function pass(): number {
  const t0 = performance.now();
  checkpoint.all();
  return performance.now() - t0;
}

/**
 * One round: copies the WAL into the database file, then what was committed meanwhile, until a
 * pass is short, and then a last pass in the thread's turn: no commit lands while it copies, so
 * the round ends with every frame copied and the store's next write transaction starts the WAL
 * over (checkpointer.ts). The store's commits wait on the event loop for that last pass (they do
 * not block it), at most `TURN_WAIT_MS` (group-commit.ts).
 */
function checkpointWal(): void {
  for (let n = 1; pass() > TURN_PASS_MS && n < MAX_PASSES; n++);
  turns.inThread(pass);
}

const timer = setInterval(() => {
  try {
    checkpointWal();
  } catch {
    // busy or gone: the next round tries again
  }
}, data.checkpointIntervalMs);

async function answer(request: BookkeepingRequest): Promise<BookkeepingValue> {
  switch (request.op) {
    case 'claim': {
      const events = await outbox.claim(request.owner, request.limit, request.leaseMs);
      return { ids: events.map((e) => e.id), keys: events.map((e) => e.key), texts: events.map((e) => outboxEventText(e) ?? '') };
    }
    case 'complete':
      await outbox.complete(request.ids);
      return undefined;
    case 'release':
      await outbox.release(request.ids);
      return undefined;
    case 'stats':
      return outbox.stats();
  }
}

port.on('message', (message: BookkeepingRequest | typeof CLOSE) => {
  if (message === CLOSE) {
    clearInterval(timer);
    db.close();
    port.close();
    return;
  }
  answer(message).then(
    (value) => port.postMessage({ id: message.id, value } satisfies BookkeepingReply),
    (err: unknown) =>
      port.postMessage({
        id: message.id,
        failure: { message: err instanceof Error ? err.message : String(err), unavailable: err instanceof StoreUnavailableError },
      } satisfies BookkeepingReply),
  );
});
