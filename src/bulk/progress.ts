/**
 * Import progress on stderr: on a terminal a bar redrawn in place (at most 10 times a second)
 * with the rate and, when the input's size is known, the share done and the time left; else a
 * plain line every `intervalMs` (default 5 s), for logs.
 */
export interface ProgressState {
  /** Records finished (imported or failed). */
  done: number;
  imported: number;
  failed: number;
  /** Bytes of the input read so far, and its size when known (a file, not a pipe). */
  bytesRead: number;
  totalBytes: number | undefined;
}

export interface ProgressOptions {
  tty: boolean;
  write: (text: string) => void;
  intervalMs?: number;
  now?: () => number;
}

const BAR_WIDTH = 24;

export function createProgress(options: ProgressOptions): { update(state: ProgressState): void; finish(state: ProgressState): void } {
  const now = options.now ?? Date.now;
  const started = now();
  const interval = options.tty ? 100 : (options.intervalMs ?? 5000);
  let last = started;

  function describe(state: ProgressState): string {
    const seconds = Math.max(0.001, (now() - started) / 1000);
    const rate = state.done / seconds;
    const share = state.totalBytes === undefined || state.totalBytes === 0 ? undefined : Math.min(1, state.bytesRead / state.totalBytes);
    const eta = share === undefined || share === 0 ? undefined : (seconds / share) * (1 - share);
    const counts = `${state.done} records (${state.imported} imported, ${state.failed} failed), ${Math.round(rate)}/s`;
    if (!options.tty) return `import: ${counts}${share === undefined ? '' : `, ${Math.floor(share * 100)}%`}${eta === undefined ? '' : `, ETA ${clock(eta)}`}`;
    const bar = share === undefined ? '' : `[${'#'.repeat(Math.round(share * BAR_WIDTH)).padEnd(BAR_WIDTH, '-')}] ${Math.floor(share * 100).toString().padStart(3)}% `;
    return `${bar}${counts}${eta === undefined ? '' : ` ETA ${clock(eta)}`}`;
  }

  return {
    update(state) {
      const t = now();
      if (t - last < interval) return;
      last = t;
      options.write(options.tty ? `\r\x1b[K${describe(state)}` : `${describe(state)}\n`);
    },
    finish(state) {
      if (options.tty) options.write(`\r\x1b[K${describe(state)}\n`);
    },
  };
}

/** Seconds as `m:ss` (or `h:mm:ss`). */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
