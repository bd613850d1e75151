import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { runLoad, type LoadResult, type LoadSpec } from './load.js';
import { stopChild } from './procs.js';
import { startService, type ServiceCommand } from './service.js';

/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and summarizes self time: the top
 * functions, and self time by where the code lives (own code, each npm package, Node internals,
 * garbage collection, idle).
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  startTime: number;
  endTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  area: string;
  ms: number;
  /** Share of busy (non-idle) time, %. */
  pct: number;
}

/** Which samples to count, in ms before the end of the profile (the process exit). */
export interface ProfileWindow {
  fromMsBeforeEnd: number;
  toMsBeforeEnd: number;
}

export interface ProfileSummary {
  file: string;
  /** 0 for the main thread, else the worker thread id. */
  thread: number;
  /** Seconds of the profile that were counted (the measured run, without start-up and shutdown). */
  windowSeconds: number;
  totalMs: number;
  busyMs: number;
  top: SelfTime[];
  areas: { area: string; ms: number; pct: number }[];
}

function area(frame: CallFrame, root: string): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName.startsWith('(')) return functionName; // (idle) (program) (garbage collector) (root)
    return '(native / V8 builtins)';
  }
  if (url.startsWith('node:')) return 'node core';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf(`${sep}node_modules${sep}`);
  if (nm >= 0) {
    const parts = path.slice(nm + 14).split(sep);
    return (parts[0] ?? '').startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? '?');
  }
  if (path.startsWith(root)) return 'feature-store (own code)';
  return 'other';
}

function where(frame: CallFrame, root: string): string {
  if (frame.url === '') return '';
  let path = frame.url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf(`${sep}node_modules${sep}`);
  if (nm >= 0) path = path.slice(nm + 14);
  else if (path.startsWith(root)) path = path.slice(root.length + 1);
  return `${path}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(file: string, root: string, window?: ProfileWindow, topN = 25, thread = 0): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // Sample times are cumulative deltas from startTime (µs); count only those inside the window.
  const totalDelta = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const endOffset = profile.endTime - profile.startTime;
  const from = window === undefined ? -Infinity : endOffset - window.fromMsBeforeEnd * 1000;
  const to = window === undefined ? Infinity : endOffset - window.toMsBeforeEnd * 1000;
  let t = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t >= from && t <= to) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });

  const fns = new Map<string, { name: string; where: string; area: string; us: number }>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined || us <= 0) continue;
    totalUs += us;
    const a = area(node.callFrame, root);
    if (a === '(idle)') {
      idleUs += us;
      continue;
    }
    areas.set(a, (areas.get(a) ?? 0) + us);
    const w = where(node.callFrame, root);
    const name = node.callFrame.functionName || '(anonymous)';
    const key = `${name}@${w}`;
    const entry = fns.get(key) ?? { name, where: w, area: a, us: 0 };
    entry.us += us;
    fns.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number): number => (busyUs > 0 ? (us / busyUs) * 100 : 0);
  return {
    file,
    thread,
    windowSeconds: window === undefined ? totalDelta / 1e6 : (window.fromMsBeforeEnd - window.toMsBeforeEnd) / 1000,
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ name: f.name, where: f.where, area: f.area, ms: f.us / 1000, pct: pct(f.us) })),
    areas: [...areas.entries()]
      .sort(([, a], [, b]) => b - a)
      .map(([a, us]) => ({ area: a, ms: us / 1000, pct: pct(us) })),
  };
}

/** The `.cpuprofile` files in `dir` with their thread id (0 = main thread), main thread first. */
export function findProfiles(dir: string): { file: string; thread: number }[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => ({ file: join(dir, f), thread: Number(/\.(\d+)\.\d+\.cpuprofile$/.exec(f)?.[1] ?? 0) }))
      .sort((a, b) => a.thread - b.thread || a.file.localeCompare(b.file));
  } catch {
    return [];
  }
}

// ------------------------------------------------------------------ profiling one scenario

export interface ProfileRun {
  /** Process name, also the log file name. */
  name: string;
  command: ServiceCommand;
  env: Record<string, string>;
  root: string;
  tmpDir: string;
  /** The scenario to drive the profiled service with. */
  load: (baseUrl: string, pid: number) => LoadSpec;
}

/**
 * Starts a separate service process under `node --cpu-prof`, drives it with one scenario, stops
 * it with SIGTERM (V8 writes the profile at exit) and summarizes the measured run only.
 */
export async function profileService(o: ProfileRun): Promise<{ summary: ProfileSummary; threads: ProfileSummary[]; load: LoadResult } | { reason: string }> {
  const dir = join(o.tmpDir, `${o.name}-cpu-profile`);
  mkdirSync(dir, { recursive: true });
  const started = await startService(o.name, o.command, o.env, {
    root: o.root,
    logDir: o.tmpDir,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  if ('reason' in started) return { reason: `profiled service did not start: ${started.reason}` };
  const svc = started.service;
  let load: LoadResult;
  try {
    load = await runLoad(o.load(svc.url, svc.child.pid));
  } catch (err) {
    await stopChild(svc.child);
    return { reason: `load on the profiled service failed: ${String(err)}` };
  }
  let exitedAt = NaN;
  void svc.child.exited.then(() => (exitedAt = performance.now()));
  await stopChild(svc.child, 20_000);
  // One profile per thread (the main thread, and e.g. the SQLite writer thread).
  const files = findProfiles(dir);
  const main = files[0];
  if (main === undefined) return { reason: `no .cpuprofile was written (exit ${String(svc.child.exitStatus())})` };
  // 0.5 s margins keep start-up, warm-up and shutdown out of the window.
  const margin = 500;
  const window = Number.isFinite(exitedAt)
    ? { fromMsBeforeEnd: exitedAt - load.measuredFrom - margin, toMsBeforeEnd: exitedAt - load.measuredTo + margin }
    : undefined;
  const summaries = files.map((f) => summarizeProfile(f.file, o.root, window, 25, f.thread));
  const [summary, ...threads] = summaries;
  if (summary === undefined) return { reason: 'no profile' };
  return { summary, threads, load };
}
