import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { runRounds, type LoadGenerator, type LoadResult, type QuietState } from './load.js';
import { POINT_READ_CONFIGS, timePointReads, type PointReadResult } from './point-reads.js';
import { processMemory, stopChild, type MemoryStatus } from './procs.js';
import type { ScaleDatabase } from './scale-cache.js';
import { requestSources } from './scenarios.js';
import { entityValue, singleReadPath, type DataSet } from './seed.js';
import { startService, type RunningService, type ServiceCommand } from './service.js';
import { rssVerdict, scaleVerdict, type ScaleVerdict } from './verdicts.js';

/**
 * The scale run (`--scale=10m`): the single-category read against a service on the usual
 * 100k-record file and one on the large cached file (bench/scale-cache.ts), both running at
 * once and driven in interleaved rounds at 50 and at 10 connections, so the ratio large/small
 * sees the same machine. Then the point read alone (no HTTP) on both files under a few SQLite
 * settings, to tell what a difference comes from.
 */
export const SCALE_CONNECTIONS = [50, 10];

export interface ScaleRow {
  connections: number;
  small: LoadResult;
  large: LoadResult;
  verdict: ScaleVerdict;
}

export interface ScaleSection {
  measured: boolean;
  reason?: string;
  large: ScaleDatabase;
  small: { set: DataSet; fileBytes: number; seedSeconds: number };
  /** Share of the large file in the OS page cache before the run (fincore), %. */
  residentPct?: number;
  /** When it was not all there: the file read once to load it, and the share after. */
  prewarm?: { seconds: number; residentPct?: number };
  /** Share in the page cache after the HTTP reads (the kernel may evict pages meanwhile). */
  residentAfterPct?: number;
  rows: ScaleRow[];
  memory: { small?: MemoryStatus; large?: MemoryStatus };
  rss?: { mb: number; ok: boolean };
  pointReads: { small: PointReadResult; large: PointReadResult }[];
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  loadgen: LoadGenerator;
}

export interface ScaleOptions {
  root: string;
  tmpDir: string;
  command: ServiceCommand;
  large: ScaleDatabase;
  small: { path: string; set: DataSet; seedSeconds: number };
  loadgen: LoadGenerator;
  wrkThreads: number;
  warmupSeconds: number;
  durationSeconds: number;
  rounds: number;
  settle?: () => Promise<QuietState>;
  log: (line: string) => void;
}

/** Resident share of `path` in the page cache (util-linux fincore), or undefined without it. */
export function residentPct(path: string): number | undefined {
  try {
    const out = execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES,SIZE', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const [res, size] = out.trim().split(/\s+/).map(Number);
    return res !== undefined && size !== undefined && size > 0 ? (res / size) * 100 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the file once, sequentially, so that it is in the OS page cache: a service that has
 * run for a while on a machine with the RAM for it has its file there, and a half-cached file
 * would measure the disk instead of the store.
 */
function readThrough(path: string): number {
  const t0 = performance.now();
  const buf = Buffer.allocUnsafe(8 << 20);
  const fd = openSync(path, 'r');
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    closeSync(fd);
  }
  return (performance.now() - t0) / 1000;
}

async function start(name: string, o: ScaleOptions, path: string, entities: number): Promise<RunningService> {
  const started = await startService(name, o.command, { STORE: 'sqlite', SQLITE_PATH: path }, { root: o.root, logDir: o.tmpDir, readyTimeoutMs: 120_000 });
  if ('reason' in started) throw new Error(`${name} did not start: ${started.reason}`);
  const svc = started.service;
  // The last entity must be there: a short or half-seeded file would make the comparison meaningless.
  for (const n of [0, entities - 1]) {
    const res = await fetch(svc.url + singleReadPath(entityValue(n)));
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${name}: ${entityValue(n)} answered ${res.status}`);
  }
  return svc;
}

export async function runScale(o: ScaleOptions): Promise<ScaleSection> {
  const section: ScaleSection = {
    measured: false,
    large: o.large,
    small: { set: o.small.set, fileBytes: statSync(o.small.path).size, seedSeconds: o.small.seedSeconds },
    rows: [],
    memory: {},
    pointReads: [],
    durationSeconds: o.durationSeconds,
    warmupSeconds: o.warmupSeconds,
    rounds: o.rounds,
    loadgen: o.loadgen,
  };
  const residency = residentPct(o.large.path);
  if (residency !== undefined) section.residentPct = residency;
  if (residency === undefined || residency < 99) {
    o.log(`scale: ${residency === undefined ? 'page-cache share unknown' : `${residency.toFixed(0)} % of the file in the page cache`}; reading it once …`);
    const seconds = readThrough(o.large.path);
    const after = residentPct(o.large.path);
    section.prewarm = { seconds, ...(after === undefined ? {} : { residentPct: after }) };
  }
  const small = await start('service-scale-small', o, o.small.path, o.small.set.entities);
  let large: RunningService | undefined;
  try {
    large = await start('service-scale-large', o, o.large.path, o.large.set.entities);
    const smallSrc = requestSources(o.small.set).single;
    const largeSrc = requestSources(o.large.set).single;
    const base = { loadgen: o.loadgen, wrkThreads: o.wrkThreads, warmupSeconds: o.warmupSeconds, durationSeconds: o.durationSeconds, method: 'GET' as const };
    const n = (records: number): string => `${(records / 1e6).toLocaleString('en-US')}M`;
    for (const connections of SCALE_CONNECTIONS) {
      o.log(`scale: single-category read, ${n(o.small.set.records)} vs ${n(o.large.set.records)} records, ${connections} connections, ${o.rounds} interleaved rounds …`);
      const [s, l] = await runRounds(
        [
          { ...base, connections, label: `single-category read, ${n(o.small.set.records)} records`, target: 'service (sqlite)', baseUrl: small.url, pid: small.child.pid, next: smallSrc.next, lua: smallSrc.lua },
          { ...base, connections, label: `single-category read, ${n(o.large.set.records)} records`, target: 'service (sqlite)', baseUrl: large.url, pid: large.child.pid, next: largeSrc.next, lua: largeSrc.lua },
        ],
        o.rounds,
        o.settle,
      );
      if (s === undefined || l === undefined) throw new Error('missing results');
      const verdict = scaleVerdict(s, l);
      section.rows.push({ connections, small: s, large: l, verdict });
      o.log(`  ${Math.round(s.rps)} vs ${Math.round(l.rps)} req/s (×${verdict.rpsRatio.toFixed(2)}), p99 ${s.p99.toFixed(2)} vs ${l.p99.toFixed(2)} ms (×${verdict.p99Ratio.toFixed(2)})`);
    }
    const sm = processMemory(small.child.pid);
    const lm = processMemory(large.child.pid);
    if (sm !== undefined) section.memory.small = sm;
    if (lm !== undefined) {
      section.memory.large = lm;
      section.rss = rssVerdict(lm.hwmMiB);
    }
    const after = residentPct(o.large.path);
    if (after !== undefined) section.residentAfterPct = after;
    section.measured = true;
  } finally {
    await stopChild(small.child, 15_000);
    if (large !== undefined) await stopChild(large.child, 15_000);
  }
  o.log('scale: point reads without HTTP under several SQLite settings …');
  for (const config of POINT_READ_CONFIGS) {
    const s = timePointReads(o.small.path, o.small.set.entities, config);
    const l = timePointReads(o.large.path, o.large.set.entities, config);
    section.pointReads.push({ small: s, large: l });
    const preads = (r: PointReadResult): string => r.readsPerLookup?.toFixed(2) ?? 'n/a';
    o.log(`  ${config.name}: ${s.usPerRead.toFixed(2)} vs ${l.usPerRead.toFixed(2)} CPU µs/read (wall ${s.wallUsPerRead.toFixed(2)} vs ${l.wallUsPerRead.toFixed(2)}; preads/lookup ${preads(s)} vs ${preads(l)}; harness RSS +${l.rssGrowthMiB.toFixed(0)} MiB on the large file)`);
  }
  return section;
}
