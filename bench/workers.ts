import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad, runRounds, type LoadGenerator, type LoadResult, type QuietState } from './load.js';
import { processTree, stopChild, treeMemory, type MemoryStatus } from './procs.js';
import { requestSources, type RequestSource } from './scenarios.js';
import type { DataSet } from './seed.js';
import { startService, type RunningService, type ServiceCommand } from './service.js';
import { countSyscalls } from './syscalls.js';
import { writeBehaviour, type WriteBehaviour } from './verdicts.js';

/**
 * The WORKERS run (`--workers=1,2`): one SQLite service per `WORKERS` value, each on its own
 * copy of the seeded file, all running at once; single read, multi read and write each run as
 * a group over the settings, in interleaved rounds. CPU per request is the whole process tree
 * (the primary and its workers). Then, per setting, a window of writes under `perf stat` counts
 * each process's commits (fsyncs) and busy waits (sleeps in SQLite's busy handler).
 */
export interface WorkersRow {
  scenario: string;
  /** One result per `WORKERS` value, in the order of `workers`. */
  results: LoadResult[];
}

export interface WorkersSection {
  workers: number[];
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  loadgen: LoadGenerator;
  wrkThreads: number;
  rows: WorkersRow[];
  /** Per `WORKERS` value: the write window and what the kernel counted (undefined: perf not usable). */
  writes: { workers: number; load: LoadResult; behaviour?: WriteBehaviour; pids: number[] }[];
  memory: { workers: number; memory?: MemoryStatus }[];
  /** Seconds of the write window. */
  windowSeconds: number;
}

export interface WorkersOptions {
  root: string;
  tmpDir: string;
  command: ServiceCommand;
  /** The seeded file; every setting gets a copy. */
  dbPath: string;
  set: DataSet;
  workers: number[];
  loadgen: LoadGenerator;
  wrkThreads: number;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  rounds: number;
  settle?: () => Promise<QuietState>;
  log: (line: string) => void;
}

const WINDOW_SECONDS = 5;

export async function runWorkers(o: WorkersOptions): Promise<WorkersSection> {
  const services: { workers: number; svc: RunningService }[] = [];
  const section: WorkersSection = {
    workers: o.workers,
    connections: o.connections,
    durationSeconds: o.durationSeconds,
    warmupSeconds: o.warmupSeconds,
    rounds: o.rounds,
    loadgen: o.loadgen,
    wrkThreads: o.wrkThreads,
    rows: [],
    writes: [],
    memory: [],
    windowSeconds: WINDOW_SECONDS,
  };
  try {
    for (const n of o.workers) {
      const dir = join(o.tmpDir, `workers-${n}`);
      mkdirSync(dir, { recursive: true });
      const path = join(dir, 'features.db');
      copyFileSync(o.dbPath, path);
      const started = await startService(`service-workers-${n}`, o.command, { STORE: 'sqlite', SQLITE_PATH: path, WORKERS: String(n) }, { root: o.root, logDir: o.tmpDir, readyTimeoutMs: 60_000 });
      if ('reason' in started) throw new Error(`WORKERS=${n}: the service did not start: ${started.reason}`);
      services.push({ workers: n, svc: started.service });
      // The primary reports healthy once one worker listens; wait for the whole tree.
      const deadline = Date.now() + 30_000;
      while (n > 1 && processTree(started.service.child.pid).length < n + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      o.log(`WORKERS=${n}: pid ${started.service.child.pid}, processes ${processTree(started.service.child.pid).join(', ')}`);
    }
    const sources = requestSources(o.set);
    const base = { loadgen: o.loadgen, wrkThreads: o.wrkThreads, connections: o.connections, warmupSeconds: o.warmupSeconds, durationSeconds: o.durationSeconds };
    const scenarios: [string, RequestSource][] = [
      ['single-category read', sources.single],
      ['multi-category read (2 categories)', sources.multi],
      ['write', sources.write],
    ];
    for (const [scenario, src] of scenarios) {
      o.log(`workers: ${scenario}, WORKERS=${o.workers.join(' vs ')}, ${o.connections} connections, ${o.rounds} interleaved rounds …`);
      const results = await runRounds(
        services.map(({ workers, svc }) => ({ ...base, label: scenario, target: `service (sqlite, WORKERS=${workers})`, baseUrl: svc.url, pid: svc.child.pid, method: src.method, next: src.next, lua: src.lua })),
        o.rounds,
        o.settle,
      );
      results.forEach((r, i) => o.log(`  WORKERS=${o.workers[i]}: ${Math.round(r.rps)} req/s, p99 ${r.p99.toFixed(2)} ms, ${r.cpuUsPerRequest.toFixed(0)} µs CPU/req (all processes)`));
      section.rows.push({ scenario, results });
    }
    for (const { workers, svc } of services) {
      const pids = processTree(svc.child.pid);
      const window = countSyscalls(pids);
      await new Promise((r) => setTimeout(r, 500)); // perf attaches
      const load = await runLoad({ ...base, warmupSeconds: 0, durationSeconds: WINDOW_SECONDS, label: 'write (counted)', target: `service (sqlite, WORKERS=${workers})`, baseUrl: svc.url, pid: svc.child.pid, method: 'POST', next: sources.write.next, lua: sources.write.lua });
      window.stop();
      const counts = await window.done;
      const entry: WorkersSection['writes'][number] = { workers, load, pids };
      if (counts !== undefined) entry.behaviour = writeBehaviour(load.responses, counts);
      section.writes.push(entry);
      const b = entry.behaviour;
      o.log(
        `  WORKERS=${workers} writes under perf: ${Math.round(load.rps)} req/s` +
          (b === undefined ? ' (perf not usable: no counts)' : `, ${b.writesPerCommit.toFixed(1)} writes/commit, ${b.sleepsPer1000Writes.toFixed(1)} busy sleeps per 1,000 writes`),
      );
      const memory = treeMemory(svc.child.pid);
      section.memory.push({ workers, ...(memory === undefined ? {} : { memory }) });
    }
  } finally {
    for (const { svc } of services) await stopChild(svc.child, 15_000);
  }
  return section;
}
