import { spawn } from 'node:child_process';
import { parsePerfStat, type WorkerSyscalls } from './verdicts.js';

/**
 * Kernel syscall counters of given processes over a window, through `perf stat` on the
 * syscall tracepoints (counting in the kernel: no ptrace stops, the traced process runs at full
 * speed). Needs perf and permission to use tracepoints (root, or perf_event_paranoid ≤ -1);
 * `undefined` when perf is not usable.
 */
const EVENTS = ['fsync', 'fdatasync', 'nanosleep', 'clock_nanosleep'].map((s) => `syscalls:sys_enter_${s}`);

export interface SyscallWindow {
  /** Resolves with per-process counts once `stop` was called (or perf ended). */
  done: Promise<WorkerSyscalls[] | undefined>;
  stop: () => void;
}

function countOne(pid: number): { done: Promise<WorkerSyscalls | undefined>; stop: () => void } {
  let stderr = '';
  const child = spawn('perf', ['stat', '-x,', '-e', EVENTS.join(','), '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  const done = new Promise<WorkerSyscalls | undefined>((resolve) => {
    child.once('error', () => resolve(undefined));
    child.once('exit', () => {
      const c = parsePerfStat(stderr);
      if (Object.keys(c).length === 0) resolve(undefined);
      else resolve({ pid, syncs: (c.fsync ?? 0) + (c.fdatasync ?? 0), sleeps: (c.nanosleep ?? 0) + (c.clock_nanosleep ?? 0) });
    });
  });
  // perf stat -p prints its counts when interrupted.
  return { done, stop: () => child.kill('SIGINT') };
}

/** Starts counting for `pids` now; `stop()` ends the window. */
export function countSyscalls(pids: readonly number[]): SyscallWindow {
  const each = pids.map(countOne);
  return {
    done: Promise.all(each.map((e) => e.done)).then((all) => (all.some((x) => x === undefined) ? undefined : (all as WorkerSyscalls[]))),
    stop: () => each.forEach((e) => e.stop()),
  };
}
