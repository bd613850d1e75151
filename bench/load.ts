import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { machineCpuSeconds, processCpuSeconds, treeCpuSeconds } from './procs.js';
import { abortWrk, luaScript, QUANTILE_MASS, runWrk, type LuaScenario } from './wrk.js';

/**
 * Load generation: wrk (bench/wrk.ts, its own process) or autocannon's programmatic API (in
 * the harness process). Each scenario is a warm-up run (discarded) and measured runs; around
 * each measured run the harness samples from /proc the CPU time of the target process and its
 * children (`WORKERS`), of helpers such as the broker, and of the load generator itself.
 */
export type LoadGenerator = 'wrk' | 'autocannon';

// ------------------------------------------------------------------ autocannon (untyped package)

interface AcRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  setupRequest?: (request: AcRequest, context: Record<string, unknown>) => AcRequest;
}

interface AcOptions {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  requests: AcRequest[];
  /** Most requests per second per connection (a paced scenario's pace). */
  connectionRate?: number;
}

interface AcResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  resets: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
  requests: { total: number };
  throughput: { total: number };
}

interface AcInstance extends EventEmitter, PromiseLike<AcResult> {
  stop(): void;
}

type Autocannon = (options: AcOptions) => AcInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// ------------------------------------------------------------------ latency histogram

/**
 * Fixed-bucket latency histogram, 10 µs resolution up to 2 s (autocannon's own histogram
 * records whole milliseconds, too coarse for sub-millisecond p50s).
 */
class LatencyHistogram {
  static readonly RESOLUTION_MS = 0.01;
  /** Counts may be fractional: wrk's runs arrive as quantiles, each standing for a share of the responses. */
  readonly #counts = new Float64Array(200_001);
  #total = 0;
  #max = 0;

  record(ms: number, weight = 1): void {
    const i = Math.min(Math.floor(ms / LatencyHistogram.RESOLUTION_MS), this.#counts.length - 1);
    this.#counts[i] = (this.#counts[i] ?? 0) + weight;
    this.#total += weight;
    if (ms > this.#max) this.#max = ms;
  }

  get total(): number {
    return this.#total;
  }

  get max(): number {
    return this.#max;
  }

  /** Upper bound of the bucket holding the p-th percentile (0 < p ≤ 100), in ms. */
  percentile(p: number): number {
    if (this.#total === 0) return NaN;
    const rank = (p / 100) * this.#total * (1 - 1e-9);
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return (i + 1) * LatencyHistogram.RESOLUTION_MS;
    }
    return this.#max;
  }
}

// ------------------------------------------------------------------ scenarios

export interface NextRequest {
  path: string;
  body?: string;
}

export interface LoadSpec {
  /** Row label, e.g. `single-category read`. */
  label: string;
  /** What is being driven, e.g. `service (sqlite)` or `bare node:http`. */
  target: string;
  baseUrl: string;
  /** Process whose CPU time per request is reported. */
  pid: number;
  method: 'GET' | 'POST';
  /** Chooses the next request (random key); called once per request, keep it cheap. */
  next: () => NextRequest;
  /** The same requests for wrk; without it the scenario runs on autocannon whatever `loadgen` says. */
  lua?: LuaScenario;
  /** Default autocannon. */
  loadgen?: LoadGenerator;
  /** wrk threads (default 1: one core's worth of load generator at most). */
  wrkThreads?: number;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Other processes whose CPU is reported separately (broker, emulator). */
  helpers?: Record<string, number>;
  /** Called between warm-up and measured run (e.g. to reset counters). */
  beforeMeasure?: () => void;
  /** Called before the warm-up: waits (bounded) for the machine to be quiet. */
  settle?: () => Promise<QuietState>;
}

export interface QuietState {
  waitedMs: number;
  /** CPU used by other processes in the last sample before the run, % of one core. */
  foreignPct: number;
  quiet: boolean;
}

export interface LoadResult {
  label: string;
  target: string;
  connections: number;
  seconds: number;
  responses: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** 2xx responses per second. */
  rps: number;
  /**
   * 2xx responses per second in each measured round, in round order. Scenarios run as a group
   * share rounds: index i of each was measured in the same stretch of time.
   */
  roundRps: number[];
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  bytesPerResponse: number;
  /** Target process: CPU seconds during the measured run, µs per response, % of one core. */
  cpuSeconds: number;
  cpuUsPerRequest: number;
  cpuPct: number;
  harnessCpuPct: number;
  /** What generated the load, and its CPU (autocannon: the harness process it runs in). */
  loadgen: LoadGenerator;
  loadgenCpuPct: number;
  loadgenCpuUsPerRequest: number;
  machineBusyPct: number;
  /** Machine CPU not used by the target, the harness or the helpers (other tenants). */
  otherCpuPct: number;
  helperCpuPct: Record<string, number>;
  helperCpuSeconds: Record<string, number>;
  warmup: { responses: number; non2xx: number; errors: number };
  /** The machine before the run (undefined when not checked). */
  before?: QuietState;
  /** `performance.now()` at the start and end of the measured run. */
  measuredFrom: number;
  measuredTo: number;
}

let current: AcInstance | undefined;

/** Stops the running load generator, if any (Ctrl-C). */
export function abortLoad(): void {
  current?.stop();
  abortWrk();
}

/** One run of either generator, in common terms. */
interface Driven {
  seconds: number;
  responses: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  bytes: number;
  statusCodes: Record<string, number>;
  /** wrk's CPU seconds (autocannon's is the harness's). */
  loadgenCpuSeconds?: number;
}

function generatorOf(spec: LoadSpec): LoadGenerator {
  return spec.loadgen === 'wrk' && spec.lua !== undefined ? 'wrk' : 'autocannon';
}

async function drive(spec: LoadSpec, seconds: number, histogram?: LatencyHistogram): Promise<Driven> {
  if (generatorOf(spec) === 'wrk' && spec.lua !== undefined) {
    const r = await runWrk({ url: spec.baseUrl, connections: spec.connections, threads: spec.wrkThreads ?? 1, seconds, script: luaScript(spec.lua) });
    if (histogram !== undefined) r.quantilesMs.forEach((ms, i) => histogram.record(ms, r.responses * (QUANTILE_MASS[i] ?? 0)));
    const ok = r.responses - r.non2xx;
    return {
      seconds: r.seconds,
      responses: r.responses,
      ok,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      bytes: r.bytes,
      statusCodes: { '2xx': ok, ...(r.non2xx > 0 ? { '4xx/5xx': r.non2xx } : {}) },
      loadgenCpuSeconds: r.cpuSeconds,
    };
  }
  const r = await driveAutocannon(spec, seconds, histogram === undefined ? undefined : (ms) => histogram.record(ms));
  const statusCodes: Record<string, number> = {};
  for (const [code, st] of Object.entries(r.statusCodeStats)) statusCodes[code] = st.count;
  return {
    seconds: r.duration,
    responses: r.requests.total,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    bytes: r.throughput.total,
    statusCodes,
  };
}

function driveAutocannon(spec: LoadSpec, seconds: number, onResponse?: (ms: number) => void): Promise<AcResult> {
  const headers: Record<string, string> = spec.method === 'POST' ? { 'content-type': 'application/json' } : {};
  const instance = autocannon({
    url: spec.baseUrl,
    connections: spec.connections,
    duration: seconds,
    timeout: 10,
    // autocannon paces each connection at a fixed rate (no random pauses, unlike bench/wrk.ts).
    ...(spec.lua?.pauseMs === undefined ? {} : { connectionRate: 1000 / spec.lua.pauseMs }),
    requests: [
      {
        method: spec.method,
        headers,
        setupRequest: (request) => {
          const n = spec.next();
          request.path = n.path;
          if (n.body !== undefined) request.body = n.body;
          return request;
        },
      },
    ],
  });
  current = instance;
  if (onResponse !== undefined) {
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => onResponse(ms));
  }
  return new Promise<AcResult>((resolve, reject) => {
    instance.then(
      (r) => {
        current = undefined;
        resolve(r);
      },
      (err: unknown) => {
        current = undefined;
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** What one spec collects over its measured rounds. */
class Accumulator {
  readonly histogram = new LatencyHistogram();
  readonly statusCodes: Record<string, number> = {};
  readonly helpers: [string, number][];
  readonly helperSeconds: number[];
  seconds = 0;
  wall = 0;
  responses = 0;
  ok = 0;
  non2xx = 0;
  errors = 0;
  timeouts = 0;
  bytes = 0;
  cpuSeconds = 0;
  harnessSeconds = 0;
  /** wrk's own CPU (0 with autocannon, which runs in the harness). */
  wrkSeconds = 0;
  busySeconds = 0;
  readonly roundRps: number[] = [];
  from = NaN;
  to = NaN;
  warmup = { responses: 0, non2xx: 0, errors: 0 };

  constructor(readonly spec: LoadSpec) {
    this.helpers = Object.entries(spec.helpers ?? {});
    this.helperSeconds = this.helpers.map(() => 0);
  }

  /** One measured run of `seconds`, added to the totals. */
  async measure(seconds: number): Promise<void> {
    const { spec, helpers } = this;
    const cpu0 = treeCpuSeconds(spec.pid) ?? NaN;
    const helper0 = helpers.map(([, pid]) => processCpuSeconds(pid) ?? NaN);
    const machine0 = machineCpuSeconds();
    const harness0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await drive(spec, seconds, this.histogram);
    const t1 = performance.now();
    const cpu1 = treeCpuSeconds(spec.pid) ?? NaN;
    const helper1 = helpers.map(([, pid]) => processCpuSeconds(pid) ?? NaN);
    const machine1 = machineCpuSeconds();
    const harness = process.cpuUsage(harness0);
    if (Number.isNaN(this.from)) this.from = t0;
    this.to = t1;
    this.wall += (t1 - t0) / 1000;
    const measured = r.seconds > 0 ? r.seconds : (t1 - t0) / 1000;
    this.seconds += measured;
    this.roundRps.push(measured > 0 ? r.ok / measured : 0);
    this.responses += r.responses;
    this.ok += r.ok;
    this.non2xx += r.non2xx;
    this.errors += r.errors;
    this.timeouts += r.timeouts;
    this.bytes += r.bytes;
    for (const [code, n] of Object.entries(r.statusCodes)) this.statusCodes[code] = (this.statusCodes[code] ?? 0) + n;
    this.cpuSeconds += cpu1 - cpu0;
    this.harnessSeconds += (harness.user + harness.system) / 1e6;
    this.wrkSeconds += r.loadgenCpuSeconds ?? 0;
    this.busySeconds += machine1.busy - machine0.busy;
    helpers.forEach((_, i) => (this.helperSeconds[i] = (this.helperSeconds[i] ?? 0) + ((helper1[i] ?? NaN) - (helper0[i] ?? NaN))));
  }

  result(before: QuietState | undefined): LoadResult {
    const { spec, wall, helpers, helperSeconds } = this;
    const helperTotal = helperSeconds.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    const other = this.busySeconds - this.cpuSeconds - this.harnessSeconds - this.wrkSeconds - helperTotal;
    const loadgen = generatorOf(spec);
    const loadgenSeconds = loadgen === 'wrk' ? this.wrkSeconds : this.harnessSeconds;
    return {
      label: spec.label,
      target: spec.target,
      connections: spec.connections,
      seconds: this.seconds,
      responses: this.responses,
      ok: this.ok,
      non2xx: this.non2xx,
      errors: this.errors,
      timeouts: this.timeouts,
      statusCodes: this.statusCodes,
      rps: this.seconds > 0 ? this.ok / this.seconds : 0,
      roundRps: this.roundRps,
      p50: this.histogram.percentile(50),
      p90: this.histogram.percentile(90),
      p99: this.histogram.percentile(99),
      p999: this.histogram.percentile(99.9),
      max: this.histogram.max,
      bytesPerResponse: this.responses > 0 ? this.bytes / this.responses : 0,
      cpuSeconds: this.cpuSeconds,
      cpuUsPerRequest: this.responses > 0 ? (this.cpuSeconds / this.responses) * 1e6 : NaN,
      cpuPct: (this.cpuSeconds / wall) * 100,
      harnessCpuPct: (this.harnessSeconds / wall) * 100,
      loadgen,
      loadgenCpuPct: (loadgenSeconds / wall) * 100,
      loadgenCpuUsPerRequest: this.responses > 0 ? (loadgenSeconds / this.responses) * 1e6 : NaN,
      machineBusyPct: (this.busySeconds / wall) * 100,
      otherCpuPct: Math.max(0, (other / wall) * 100),
      helperCpuPct: Object.fromEntries(helpers.map(([name], i) => [name, ((helperSeconds[i] ?? NaN) / wall) * 100])),
      helperCpuSeconds: Object.fromEntries(helpers.map(([name], i) => [name, helperSeconds[i] ?? NaN])),
      warmup: this.warmup,
      ...(before === undefined ? {} : { before }),
      measuredFrom: this.from,
      measuredTo: this.to,
    };
  }
}

/**
 * Runs several scenarios against each other: one warm-up each, then `rounds` rounds in which
 * every scenario runs for `durationSeconds / rounds` (starting with a different one each
 * round). Scenarios that are compared (service vs bare, events on vs off) thus see the same
 * machine conditions: drift and noise on this shared VM spread over all of them instead of
 * landing on one. Results are the totals over all rounds.
 */
export async function runRounds(specs: LoadSpec[], rounds: number, settle?: () => Promise<QuietState>): Promise<LoadResult[]> {
  const accs = specs.map((s) => new Accumulator(s));
  const before = await settle?.();
  for (const acc of accs) {
    if (acc.spec.warmupSeconds > 0) {
      const w = await drive(acc.spec, acc.spec.warmupSeconds);
      acc.warmup = { responses: w.responses, non2xx: w.non2xx, errors: w.errors + w.timeouts };
    }
  }
  for (const acc of accs) acc.spec.beforeMeasure?.();
  const n = Math.max(1, Math.round(rounds));
  let worst = before;
  for (let round = 0; round < n; round++) {
    // Each round starts on a quiet machine too (bounded wait); the worst sample is reported.
    if (round > 0 && settle !== undefined) {
      const q = await settle();
      if (worst === undefined || q.foreignPct > worst.foreignPct) worst = { ...q, waitedMs: q.waitedMs + (worst?.waitedMs ?? 0) };
      else worst = { ...worst, waitedMs: worst.waitedMs + q.waitedMs };
    }
    for (let k = 0; k < accs.length; k++) {
      const acc = accs[(round + k) % accs.length];
      if (acc !== undefined) await acc.measure(acc.spec.durationSeconds / n);
    }
  }
  return accs.map((a) => a.result(worst));
}

/** One scenario: warm-up, then one measured run. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const [r] = await runRounds([spec], 1, spec.settle);
  if (r === undefined) throw new Error('no result');
  return r;
}

/** Whether a run had any failed request (measured or warm-up). */
export function hadErrors(r: LoadResult): boolean {
  return r.non2xx > 0 || r.errors > 0 || r.timeouts > 0 || r.warmup.non2xx > 0 || r.warmup.errors > 0;
}

export const CORES = availableParallelism();
