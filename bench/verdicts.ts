/**
 * The pass criteria of the optional runs, as pure functions (unit-tested without timing).
 *
 * Scale (`--scale`): single-read throughput and p99 at the large data set within `tolerance`
 * (15 %) of the 100k one, and the service's peak RSS at most 200 MB (10^6 bytes).
 */
export const SCALE_TOLERANCE = 0.15;
export const RSS_LIMIT_MB = 200;

export interface ScaleVerdict {
  /** large / small req/s (1 = as fast; below 1 - tolerance fails). */
  rpsRatio: number;
  /** large / small p99 (1 = as fast; above 1 + tolerance fails). */
  p99Ratio: number;
  rpsOk: boolean;
  p99Ok: boolean;
}

export function scaleVerdict(small: { rps: number; p99: number }, large: { rps: number; p99: number }, tolerance = SCALE_TOLERANCE): ScaleVerdict {
  const rpsRatio = small.rps > 0 ? large.rps / small.rps : NaN;
  const p99Ratio = small.p99 > 0 ? large.p99 / small.p99 : NaN;
  return {
    rpsRatio,
    p99Ratio,
    // NaN (nothing measured) fails both comparisons.
    rpsOk: rpsRatio >= 1 - tolerance,
    p99Ok: p99Ratio <= 1 + tolerance,
  };
}

/** Peak RSS in MiB (VmHWM) against the limit in MB. */
export function rssVerdict(hwmMiB: number, limitMB = RSS_LIMIT_MB): { mb: number; ok: boolean } {
  const mb = (hwmMiB * 1024 * 1024) / 1e6;
  return { mb, ok: mb <= limitMB };
}

/**
 * Batch reads (issue item 4): 100 entities in one request reach at least `minRatio` (10×) the
 * entities/s of single-category reads, with p99 at most `p99LimitMs` (15 ms) at 10 connections.
 * Judged like for like: each entity of the batch selects the single read's record (one category,
 * `d0_unauth_features:*`); the multi-read's two-category selection is reported beside, not judged.
 */
export const BATCH_RATIO = 10;
export const BATCH_P99_MS = 15;
export const BATCH_TARGET_CONNECTIONS = 10;

export interface BatchVerdict {
  /** Entities/s of the batch read over req/s of the single read. */
  ratio: number;
  p99Ms: number;
  ratioOk: boolean;
  p99Ok: boolean;
}

export function batchVerdict(single: { rps: number }, batch: { rps: number; p99: number; entities: number }, minRatio = BATCH_RATIO, p99LimitMs = BATCH_P99_MS): BatchVerdict {
  const ratio = single.rps > 0 ? (batch.rps * batch.entities) / single.rps : NaN;
  // NaN (nothing measured) fails both comparisons.
  return { ratio, p99Ms: batch.p99, ratioOk: ratio >= minRatio, p99Ok: batch.p99 <= p99LimitMs };
}

/**
 * Write behaviour of one `WORKERS` setting from kernel counters over a window of writes:
 * commits are the fsync/fdatasync calls of each worker (SQLite in WAL mode with
 * `synchronous = FULL` syncs the WAL once per commit; a checkpoint adds a few), busy waits are
 * its sleeps (SQLite's busy handler sleeps 1, 2, 5, 10 … ms while another process holds the
 * write lock; the service's event loop makes no sleep calls of its own).
 */
export interface WorkerSyscalls {
  pid: number;
  syncs: number;
  sleeps: number;
}

export interface WriteBehaviour {
  writes: number;
  commits: number;
  /** Writes per commit over all processes: the group-commit batch. */
  writesPerCommit: number;
  sleeps: number;
  /** Busy-handler sleeps per 1,000 writes. */
  sleepsPer1000Writes: number;
  perProcess: WorkerSyscalls[];
}

export function writeBehaviour(writes: number, perProcess: WorkerSyscalls[]): WriteBehaviour {
  const commits = perProcess.reduce((n, p) => n + p.syncs, 0);
  const sleeps = perProcess.reduce((n, p) => n + p.sleeps, 0);
  return {
    writes,
    commits,
    writesPerCommit: commits > 0 ? writes / commits : NaN,
    sleeps,
    sleepsPer1000Writes: writes > 0 ? (sleeps / writes) * 1000 : NaN,
    perProcess,
  };
}

/**
 * Counts from `perf stat -x,` output (stderr): lines `count,unit,event,…`; the events
 * `syscalls:sys_enter_<name>` are summed by syscall name. `<not counted>` counts as 0.
 */
export function parsePerfStat(csv: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of csv.split('\n')) {
    const cells = line.split(',');
    const event = cells[2]?.trim();
    if (event === undefined || !event.startsWith('syscalls:sys_enter_')) continue;
    const n = Number(cells[0]);
    const name = event.slice('syscalls:sys_enter_'.length);
    out[name] = (out[name] ?? 0) + (Number.isFinite(n) ? n : 0);
  }
  return out;
}

/**
 * Puts `body` into `report` between `<!-- bench:<id> -->` and `<!-- /bench:<id> -->`: replaces
 * an earlier run's section with the same id, else inserts it before `## Targets` (or at the
 * end). A run with `--scale-only` thus updates its section of an existing report and leaves the
 * rest as the last full run wrote it.
 */
export function spliceSection(report: string, id: string, body: string): string {
  const open = `<!-- bench:${id} -->`;
  const close = `<!-- /bench:${id} -->`;
  const block = `${open}\n${body.trim()}\n${close}\n`;
  const start = report.indexOf(open);
  const end = report.indexOf(close);
  if (start >= 0 && end > start) {
    const after = report.slice(end + close.length).replace(/^\n/, '');
    return report.slice(0, start) + block + after;
  }
  const targets = report.search(/^## Targets$/m);
  if (targets >= 0) return `${report.slice(0, targets)}${block}\n${report.slice(targets)}`;
  return `${report.replace(/\n*$/, '\n\n')}${block}`;
}

/** The spread of a ratio over the rounds of one group: lowest, median and highest. */
export interface RoundSpread {
  min: number;
  median: number;
  max: number;
  rounds: number;
}

/**
 * Per-round ratios of two scenarios measured in the same group (round i of each ran in the same
 * stretch of time), for showing how far one run's ratio moves within the run. Rounds where the
 * base served nothing are left out; undefined when fewer than two rounds remain.
 */
export function roundSpread(rps: readonly number[], baseRps: readonly number[]): RoundSpread | undefined {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(rps.length, baseRps.length); i++) {
    const a = rps[i];
    const b = baseRps[i];
    if (a !== undefined && b !== undefined && b > 0) ratios.push(a / b);
  }
  if (ratios.length < 2) return undefined;
  ratios.sort((x, y) => x - y);
  const mid = ratios.length >> 1;
  const median = ratios.length % 2 === 1 ? (ratios[mid] ?? NaN) : ((ratios[mid - 1] ?? NaN) + (ratios[mid] ?? NaN)) / 2;
  return { min: ratios[0] ?? NaN, median, max: ratios[ratios.length - 1] ?? NaN, rounds: ratios.length };
}
