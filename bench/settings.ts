import { parseArgs } from 'node:util';
import type { LoadGenerator } from './load.js';
import { wrkAvailable } from './wrk.js';

/**
 * Benchmark settings. Everything is overridable through `BENCH_*` environment variables so a
 * quick smoke run (`BENCH_DURATION=2 BENCH_WARMUP=1 BENCH_SEED=5000 npm run bench`) uses the
 * same code path as the full run. Flags (`npm run bench -- --flag=…`) choose the load generator
 * and the optional runs: `--loadgen=wrk|autocannon` (default wrk when /usr/bin/wrk exists),
 * `--scale=10m` (the scale run, see bench/scale.ts), `--workers=1,2` (the WORKERS run, see
 * bench/workers.ts). `--scale-only` / `--workers-only` skip the default scenarios and imply
 * `--scale=10m` / `--workers=1,2` when those are not given. With `--scale` the default
 * BENCH_TIMEOUT is an hour instead of 20 minutes (a first run seeds the large file).
 * The DynamoDB scenarios alone, with read and write profiles, for iterating on
 * that backend: `node --import tsx bench/dynamo-only.ts` (same BENCH_DYNAMO_* settings).
 */
export interface BenchSettings {
  loadgen: LoadGenerator;
  /** wrk threads per run (BENCH_WRK_THREADS, default 1). */
  wrkThreads: number;
  /** `--scale`: records of the large data set (0: no scale run). */
  scaleRecords: number;
  /** `--scale-only`: skip the default scenarios, run only the scale comparison. */
  scaleOnly: boolean;
  /** Where the seeded large file is kept between runs (BENCH_SCALE_CACHE). */
  scaleCacheDir: string;
  /** `--workers`: WORKERS values to compare (empty: no workers run). */
  workers: number[];
  /** `--workers-only`: skip the default scenarios. */
  workersOnly: boolean;
  /** Measured seconds per scenario. */
  duration: number;
  /** Warm-up seconds per scenario (not measured). */
  warmup: number;
  connections: number;
  /** Compared scenarios run in this many interleaved rounds (duration split between them). */
  rounds: number;
  /** SQLite records to seed (split across two categories, see seed.ts). */
  seedRecords: number;
  /** DynamoDB scenarios: measured seconds, warm-up seconds, connections, records seeded via the API. */
  dynamoDuration: number;
  dynamoWarmup: number;
  dynamoConnections: number;
  dynamoSeedRecords: number;
  /** `off` skips the events-on run; `auto` uses KAFKA_BROKERS or starts a broker. */
  kafka: 'auto' | 'off';
  /** `off` skips the DynamoDB section. */
  dynamo: 'auto' | 'off';
  /** Profile the service (`node --cpu-prof`) on the single-read scenario. */
  profile: boolean;
  /** Seconds to wait after the events-on run for the outbox to drain into Kafka. */
  drainSeconds: number;
  /** Hard limit for the whole run, in seconds; the harness cleans up and exits when it is hit. */
  timeoutSeconds: number;
  /** Before each scenario, wait until other processes use less than this (% of one core)… */
  quietThresholdPct: number;
  /** …for at most this long per scenario (s)… */
  quietMaxWaitSeconds: number;
  /** …and at most this long in the whole run (s). 0 disables the check. */
  quietBudgetSeconds: number;
  /** Keep the temp dir (database, logs, profiles) for inspection. */
  keepTmp: boolean;
  /** Where the markdown report goes (relative to the project root). */
  output: string;
  /** Brokers given by the environment (`KAFKA_BROKERS`), if any. */
  kafkaBrokers: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${name} must be a number between ${min} and ${max}, got '${raw}'`);
  }
  return n;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on', 'auto'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new Error(`${name} must be true or false, got '${raw}'`);
}

/** `10m`, `500k`, `2000000` → records. */
function count(flag: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(raw.trim());
  const n = m === null ? NaN : Number(m[1]) * ({ k: 1e3, m: 1e6 }[(m[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isFinite(n) || n < 1_000 || n > 100_000_000) throw new Error(`--${flag} must be a record count such as 10m or 500k, got '${raw}'`);
  return Math.round(n);
}

function workerList(raw: string): number[] {
  const list = raw.split(',').map((x) => Number(x.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) {
    throw new Error(`--workers must be a list of process counts such as 1,2, got '${raw}'`);
  }
  return [...new Set(list)];
}

export function loadSettings(env: Env, argv: readonly string[] = []): BenchSettings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      loadgen: { type: 'string' },
      scale: { type: 'string' },
      'scale-only': { type: 'boolean' },
      workers: { type: 'string' },
      'workers-only': { type: 'boolean' },
    },
  });
  const loadgen = values.loadgen ?? (wrkAvailable() ? 'wrk' : 'autocannon');
  if (loadgen !== 'wrk' && loadgen !== 'autocannon') throw new Error(`--loadgen must be wrk or autocannon, got '${loadgen}'`);
  if (loadgen === 'wrk' && !wrkAvailable()) throw new Error('--loadgen=wrk: /usr/bin/wrk is not installed (apt-get install wrk)');
  const scaleOnly = values['scale-only'] === true;
  const workersOnly = values['workers-only'] === true;
  const scaleRecords = values.scale === undefined ? (scaleOnly ? 10_000_000 : 0) : count('scale', values.scale);
  return Object.freeze({
    loadgen,
    wrkThreads: Math.round(num(env, 'BENCH_WRK_THREADS', 1, 1, 16)),
    scaleRecords,
    scaleOnly,
    scaleCacheDir: env.BENCH_SCALE_CACHE?.trim() || 'bench/.cache',
    workers: values.workers === undefined ? (workersOnly ? [1, 2] : []) : workerList(values.workers),
    workersOnly,
    duration: num(env, 'BENCH_DURATION', 10, 1, 600),
    warmup: num(env, 'BENCH_WARMUP', 3, 0, 120),
    connections: Math.round(num(env, 'BENCH_CONNECTIONS', 50, 1, 1000)),
    rounds: Math.round(num(env, 'BENCH_ROUNDS', 5, 1, 100)),
    seedRecords: Math.round(num(env, 'BENCH_SEED', 100_000, 100, 5_000_000)),
    dynamoDuration: num(env, 'BENCH_DYNAMO_DURATION', 5, 1, 600),
    dynamoWarmup: num(env, 'BENCH_DYNAMO_WARMUP', 2, 0, 120),
    dynamoConnections: Math.round(num(env, 'BENCH_DYNAMO_CONNECTIONS', 10, 1, 200)),
    dynamoSeedRecords: Math.round(num(env, 'BENCH_DYNAMO_SEED', 2_000, 10, 100_000)),
    kafka: flag(env, 'BENCH_KAFKA', true) ? 'auto' : 'off',
    dynamo: flag(env, 'BENCH_DYNAMO', true) ? 'auto' : 'off',
    profile: flag(env, 'BENCH_PROFILE', false),
    drainSeconds: num(env, 'BENCH_DRAIN_SECONDS', 60, 0, 600),
    timeoutSeconds: num(env, 'BENCH_TIMEOUT', scaleRecords > 0 ? 3600 : 1200, 30, 7200),
    quietThresholdPct: num(env, 'BENCH_QUIET_THRESHOLD', 25, 1, 200),
    // Bounded so that a default run stays under 5 minutes on a busy machine.
    quietMaxWaitSeconds: num(env, 'BENCH_QUIET_WAIT', 10, 0, 600),
    quietBudgetSeconds: num(env, 'BENCH_QUIET_BUDGET', 30, 0, 3600),
    keepTmp: flag(env, 'BENCH_KEEP_TMP', false),
    output: env.BENCH_OUTPUT?.trim() || 'docs/performance.md',
    kafkaBrokers: env.KAFKA_BROKERS?.trim() || undefined,
  });
}
