import type { Logger } from '../logger.js';

export interface ExpirySweeperOptions {
  /** One sweep: removes every record expired by now; resolves with how many. */
  sweep: () => Promise<number>;
  intervalMs: number;
  logger: Logger;
}

export interface ExpirySweeper {
  /** Sweeps once now, then every `intervalMs`. */
  start(): void;
  /** Stops the timer and waits for a sweep in progress (its transaction commits or fails whole). */
  stop(): Promise<void>;
}

/**
 * Runs the physical removal of expired records on a timer (SQLite; DynamoDB's native TTL needs
 * none). Reads never depend on it: the service hides expired records itself, so a late or
 * failed sweep only delays when the space is reclaimed. Sweeps never overlap; a failure is
 * logged and the next interval tries again.
 */
export function createExpirySweeper(options: ExpirySweeperOptions): ExpirySweeper {
  const { sweep, intervalMs, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const run = (): void => {
    if (stopped || running !== undefined) return;
    running = sweep()
      .then(
        (removed) => {
          if (removed > 0) logger.info({ removed }, 'expired records removed');
        },
        (err: unknown) => logger.warn({ err }, 'expiry sweep failed; retrying at the next interval'),
      )
      .finally(() => {
        running = undefined;
      });
  };

  return {
    start() {
      if (timer !== undefined || stopped) return;
      run();
      timer = setInterval(run, intervalMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      await running;
    },
  };
}
