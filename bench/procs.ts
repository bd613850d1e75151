import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Child processes of the benchmark (service, bare server, emulator) and what the harness reads
 * about them from /proc. Every child is registered so that `stopAll` / `killAllSync` can end
 * it on success, failure and Ctrl-C; nothing else is ever signalled.
 */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Undefined while running. */
  exitStatus(): number | string | undefined;
}

const children = new Set<Child>();
let shuttingDown = false;

/** After this, no new child is started (cleanup is running). */
export function beginShutdown(): void {
  shuttingDown = true;
}

export interface SpawnOptions {
  env: Record<string, string>;
  cwd: string;
  logPath: string;
  /**
   * Keep a pipe to the child's stdin open. Children written for the bench (bare server,
   * emulator wrapper) exit when it closes, so they never outlive a harness that was SIGKILLed.
   */
  stdinPipe?: boolean;
}

export function spawnChild(name: string, command: string, args: readonly string[], options: SpawnOptions): Child {
  if (shuttingDown) throw new Error(`not starting ${name}: the bench is shutting down`);
  const fd = openSync(options.logPath, 'a');
  let proc: ChildProcess;
  try {
    proc = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.stdinPipe === true ? 'pipe' : 'ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  let status: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      status = code ?? signal ?? 'unknown';
      resolve(status);
    });
    proc.once('error', (err) => {
      status = `spawn error: ${err.message}`;
      resolve(status);
    });
  });
  const child: Child = { name, pid: proc.pid, logPath: options.logPath, process: proc, exited, exitStatus: () => status };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone (bounded). */
export async function stopChild(child: Child, graceMs = 5_000): Promise<void> {
  if (child.exitStatus() !== undefined) return;
  child.process.kill('SIGTERM');
  const gone = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (gone) return;
  child.process.kill('SIGKILL');
  await Promise.race([child.exited, sleep(2_000)]);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)));
}

/** Last-resort cleanup from an `exit` handler (no event loop left): SIGKILL what is still running. */
export function killAllSync(): void {
  for (const c of children) {
    if (c.exitStatus() === undefined) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

// ------------------------------------------------------------------ /proc

let ticksPerSecond: number | undefined;

export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system, all threads) the process has used so far; undefined if it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / clockTicks();
  } catch {
    return undefined;
  }
}

/** The process and its descendants (a `WORKERS` primary and its workers), from /proc. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [pid];
  }
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(e));
      parents.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    out.push(p);
    for (const c of parents.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/**
 * CPU seconds of `pid` and its descendants; undefined if `pid` is gone. A child that exited
 * during the window takes its CPU with it (a restarted worker): a bench run reports those.
 */
export function treeCpuSeconds(pid: number): number | undefined {
  const own = processCpuSeconds(pid);
  if (own === undefined) return undefined;
  return processTree(pid)
    .slice(1)
    .reduce((sum, p) => sum + (processCpuSeconds(p) ?? 0), own);
}

/** Memory of `pid` and its descendants, summed (RSS double-counts pages they share). */
export function treeMemory(pid: number): MemoryStatus | undefined {
  const all = processTree(pid).map(processMemory);
  if (all[0] === undefined) return undefined;
  return all.reduce<MemoryStatus>((a, m) => ({ rssMiB: a.rssMiB + (m?.rssMiB ?? 0), hwmMiB: a.hwmMiB + (m?.hwmMiB ?? 0) }), { rssMiB: 0, hwmMiB: 0 });
}

export interface MemoryStatus {
  /** Resident set size now, MiB. */
  rssMiB: number;
  /** Peak resident set size, MiB. */
  hwmMiB: number;
}

export function processMemory(pid: number): MemoryStatus | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine (all cores) from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const hz = clockTicks();
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: (total - idle - iowait) / hz, total: total / hz };
}

// ------------------------------------------------------------------ ports, HTTP, commands

/** A port that is free on 127.0.0.1 right now (the OS picks it; released before returning). */
export { freePort } from '../scripts/kafka-process.js';

/**
 * Polls `url` until it answers 200, the child exits, or `timeoutMs` passes. Resolves with
 * undefined when ready, else with the reason.
 */
export async function waitForHttp(url: string, child: Child, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const status = child.exitStatus();
    if (status !== undefined) return `${child.name} exited (${status}) before it was ready`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return undefined;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  return `${child.name} not ready after ${timeoutMs} ms (${last})`;
}

/** Polls until `check` resolves true or `timeoutMs` passes; resolves with whether it did. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return check();
}

export interface CommandResult {
  code: number | string;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion (bounded by `timeoutMs`); never rejects. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<CommandResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 32 << 20 },
      (err, stdout, stderr) => {
        let code: number | string = 0;
        if (err !== null) code = typeof err.code === 'number' ? err.code : (err.signal ?? err.code ?? 'error');
        resolve({ code, stdout, stderr, ms: performance.now() - t0 });
      },
    );
  });
}

/** The last `lines` lines of a log file ('' if unreadable). */
export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * The interesting end of a service log: error/fatal JSON lines (pino levels 50/60) and
 * non-JSON lines (crash output), last `max` of them; else the plain tail.
 */
export function problemLines(path: string, max = 15, onlyProblems = false): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return '(no log)';
  }
  const lines = text.trimEnd().split('\n');
  // Node process warnings ("(node:123) SomeWarning: …" up to "(Use `node --trace-warnings …"):
  // their first line only, marked, so that they do not read as errors.
  const kept: string[] = [];
  let inWarning = false;
  for (const l of lines) {
    if (/^\(node:\d+\) \S*Warning/.test(l)) {
      kept.push(`[process warning] ${l.replace(/^\(node:\d+\) /, '')}`);
      inWarning = true;
      continue;
    }
    if (inWarning) {
      if (l.startsWith('(Use `node --trace-warnings')) inWarning = false;
      else if (!l.startsWith('{')) continue;
      else inWarning = false;
      if (l.startsWith('(Use')) continue;
    }
    kept.push(l);
  }
  const problems = kept.filter((l) => {
    if (!l.startsWith('{')) return l.trim() !== '';
    return /"level":(50|60)\b/.test(l);
  });
  if (onlyProblems && problems.length === 0) return '';
  const chosen = (problems.length > 0 ? problems : lines).slice(-max);
  return chosen.map((l) => (l.length > 600 ? `${l.slice(0, 600)}…` : l)).join('\n');
}

/** Environment for children: only what they need, so nothing leaks in from the caller's shell. */
export function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR', 'JAVA_HOME']) {
    const v = process.env[key];
    if (v !== undefined) env[key] = v;
  }
  return { ...env, ...extra };
}

// ------------------------------------------------------------------ a quiet machine

/**
 * CPU (% of one core) used during a `windowMs` sample by processes that are not the harness,
 * not a registered child and not in `extraPids`: other users of the machine.
 */
export async function foreignCpuPct(windowMs: number, extraPids: readonly number[] = []): Promise<number> {
  const pids = [...[...children].filter((c) => c.exitStatus() === undefined).map((c) => c.pid), ...extraPids];
  const own0 = pids.map((p) => processCpuSeconds(p) ?? NaN);
  const m0 = machineCpuSeconds();
  const h0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(windowMs);
  const wall = (performance.now() - t0) / 1000;
  const h = process.cpuUsage(h0);
  const m1 = machineCpuSeconds();
  const own = pids.reduce((sum, p, i) => {
    const d = (processCpuSeconds(p) ?? NaN) - (own0[i] ?? NaN);
    return sum + (Number.isFinite(d) ? d : 0);
  }, 0);
  const foreign = m1.busy - m0.busy - own - (h.user + h.system) / 1e6;
  return Math.max(0, (foreign / wall) * 100);
}

/**
 * Waits (in 1 s samples) until other processes use less than `thresholdPct` of a core, or
 * `maxWaitMs` passes. Resolves with the time waited and the last sample.
 */
export async function waitForQuiet(
  thresholdPct: number,
  maxWaitMs: number,
  extraPids: readonly number[] = [],
): Promise<{ waitedMs: number; foreignPct: number; quiet: boolean }> {
  const t0 = performance.now();
  let foreign = await foreignCpuPct(1_000, extraPids);
  while (foreign >= thresholdPct && performance.now() - t0 < maxWaitMs) {
    foreign = await foreignCpuPct(1_000, extraPids);
  }
  return { waitedMs: performance.now() - t0, foreignPct: foreign, quiet: foreign < thresholdPct };
}
