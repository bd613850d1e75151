import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import { backoffDelay } from './events/backoff.js';
import { createLogger, type Logger } from './logger.js';
import { closeOnSignals, startServer } from './server.js';

/**
 * `WORKERS=N` (N > 1): N service processes on one port through node:cluster. The primary only
 * supervises: it starts the workers one after the other (so only one of them migrates a SQLite
 * schema at a time), restarts a worker that dies (with backoff, logged), and on SIGTERM/SIGINT
 * forwards the signal to every worker and exits once all have shut down; a worker still running
 * `SHUTDOWN_TIMEOUT_MS` (+1 s) later is killed and the primary exits 1.
 *
 * What the workers share:
 * - DynamoDB: nothing but the tables; they are stateless like separate instances.
 * - SQLite: the file, in WAL mode: reads run in every process at once; writes take the file's
 *   single write lock (`BEGIN IMMEDIATE`, waiting up to the busy timeout), so group commit
 *   batches per process and the processes' commits take turns.
 * - Events: every worker runs its own relay, woken by its own writes; the outbox leases make
 *   relays of several processes safe (each claimed event is published by its owner; delivery
 *   stays at least once), as for several instances.
 * - The expiry sweeper runs in worker 0 only (a restarted worker 0 takes it over): sweeping in
 *   several processes would be safe, each sweep being one write transaction, but only repeats work.
 * - Metrics are per process: a scrape of /metrics reaches one worker.
 */

/** Environment variable telling a worker its slot (0 … N-1). */
const SLOT_VAR = 'FEATURE_STORE_WORKER_SLOT';

/** A worker that ran at least this long before dying is restarted without backoff growth. */
const STABLE_MS = 60_000;
const RESTART_BACKOFF = { initialMs: 500, maxMs: 30_000 };

/** Runs the calling process's part: the primary supervises, a worker serves. */
export async function serveWorkers(config: Config): Promise<void> {
  if (cluster.isPrimary) await runPrimary(config, createLogger(config.logLevel).child({ role: 'primary' }));
  else await runWorker(config);
}

async function runWorker(config: Config): Promise<void> {
  const slot = Number(process.env[SLOT_VAR] ?? '0');
  const logger = createLogger(config.logLevel).child({ worker: slot });
  const starting = startServer(config, { logger, expirySweeper: slot === 0 });
  closeOnSignals(starting);
  await starting;
}

interface Slot {
  index: number;
  worker?: Worker;
  startedAt: number;
  /** Consecutive quick deaths, for the restart delay. */
  failures: number;
  /** The current worker listened (a worker dying before that is a start-up failure). */
  up: boolean;
  restartTimer?: NodeJS.Timeout;
}

function fork(slot: Slot): Worker {
  slot.startedAt = Date.now();
  slot.up = false;
  const worker = cluster.fork({ [SLOT_VAR]: String(slot.index) });
  slot.worker = worker;
  worker.once('listening', () => (slot.up = true));
  return worker;
}

/** Resolves once `worker` listens; rejects if it exits first. */
function listening(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null): void => {
      worker.off('listening', onListening);
      reject(new Error(`worker exited (${code ?? signal ?? 'unknown'}) before listening`));
    };
    const onListening = (): void => {
      worker.off('exit', onExit);
      resolve();
    };
    worker.once('exit', onExit);
    worker.once('listening', onListening);
  });
}

async function runPrimary(config: Config, logger: Logger): Promise<void> {
  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({ index, startedAt: 0, failures: 0, up: false }));
  let stopping = false;

  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down all workers');
    for (const s of slots) clearTimeout(s.restartTimer);
    const alive = slots.flatMap((s) => (s.worker !== undefined && !s.worker.isDead() ? [s.worker] : []));
    const timer = setTimeout(() => {
      logger.error('workers did not shut down in time, killing them');
      for (const w of alive) if (!w.isDead()) w.process.kill('SIGKILL');
      process.exit(1);
    }, config.shutdownTimeoutMs + 1_000);
    timer.unref();
    let failed = false;
    void Promise.all(
      alive.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', (code) => {
              if (code !== 0) failed = true;
              resolve();
            });
            w.process.kill('SIGTERM');
          }),
      ),
    ).then(() => {
      logger.info(failed ? 'workers stopped, not all cleanly' : 'all workers shut down cleanly');
      process.exit(failed ? 1 : 0);
    });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.find((s) => s.worker === worker);
    // A first start that fails is handled by the start-up loop; a restart that fails is retried here.
    if (stopping || slot === undefined || (!slot.up && slot.failures === 0)) return;
    slot.failures = Date.now() - slot.startedAt >= STABLE_MS ? 1 : slot.failures + 1;
    const delayMs = backoffDelay(slot.failures, RESTART_BACKOFF);
    logger.error({ worker: slot.index, pid: worker.process.pid, code, signal, restartInMs: delayMs }, 'worker died; restarting it');
    slot.restartTimer = setTimeout(() => {
      if (stopping) return;
      const next = fork(slot);
      listening(next).then(
        () => logger.info({ worker: slot.index, pid: next.process.pid }, 'worker restarted'),
        (err: unknown) => logger.error({ worker: slot.index, err }, 'restarted worker failed to start'),
      );
    }, delayMs);
  });

  // One after the other: the first opens (and migrates) the store before the next starts.
  for (const slot of slots) {
    if (stopping) return;
    try {
      await listening(fork(slot));
    } catch (err) {
      if (stopping) return; // a signal arrived during start-up; shutdown() has it in hand
      // Start-up failure (configuration, store): no restart loop, everything stops.
      stopping = true;
      logger.fatal({ worker: slot.index, err }, 'a worker failed to start; stopping');
      for (const s of slots) if (s.worker !== undefined && !s.worker.isDead()) s.worker.process.kill('SIGTERM');
      process.exitCode = 1;
      return;
    }
  }
  logger.info({ workers: slots.length, pids: slots.map((s) => s.worker?.process.pid) }, 'all workers listening');
}
