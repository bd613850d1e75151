import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDynamo } from './dynamo.js';
import { acquireBroker, stopBroker, topicEndOffsets, TOPIC, type Broker } from './kafka.js';
import { abortLoad, hadErrors, runRounds, type LoadResult, type LoadSpec, type NextRequest, type QuietState } from './load.js';
import {
  baseEnv,
  beginShutdown,
  foreignCpuPct,
  freePort,
  killAllSync,
  problemLines,
  processMemory,
  spawnChild,
  stopAll,
  stopChild,
  tail,
  waitForHttp,
  waitForQuiet,
  type MemoryStatus,
} from './procs.js';
import { profileService } from './profile.js';
import { machineInfo, renderReport, type EventsSection, type MachineInfo, type ReportData } from './report.js';
import { scaleReport, workersReport } from './report-modes.js';
import { runScale } from './scale.js';
import { scaleDatabase } from './scale-cache.js';
import { BATCH_TARGET_CONNECTIONS, spliceSection } from './verdicts.js';
import { runWorkers } from './workers.js';
import {
  dataSet,
  entityValue,
  seedSqlite,
  singleReadPath,
  type BatchSelection,
  type DataSet,
} from './seed.js';
import { paced, requestSources, type RequestSource } from './scenarios.js';
import { buildService, startService, type RunningService, type ServiceCommand } from './service.js';
import { loadSettings, type BenchSettings } from './settings.js';

/**
 * `npm run bench`: builds the service, seeds SQLite, starts the service and a bare node:http
 * server as separate processes, drives each with autocannon, then events on vs off (Kafka) and
 * the DynamoDB backend (dynalite), and writes docs/performance.md. Progress goes to stderr, the
 * report to stdout. Every child process is stopped and the temp dir removed at the end, on
 * failure, on Ctrl-C and when BENCH_TIMEOUT is reached.
 *
 * Settings (bench/settings.ts): BENCH_DURATION (10 s measured per scenario), BENCH_WARMUP (3),
 * BENCH_ROUNDS (5), BENCH_CONNECTIONS (50), BENCH_SEED (100000), BENCH_DYNAMO_DURATION (5),
 * BENCH_DYNAMO_WARMUP (2), BENCH_DYNAMO_CONNECTIONS (10), BENCH_DYNAMO_SEED (2000),
 * BENCH_KAFKA / BENCH_DYNAMO (off to skip), BENCH_PROFILE (node --cpu-prof runs),
 * BENCH_QUIET_THRESHOLD / BENCH_QUIET_WAIT / BENCH_QUIET_BUDGET, BENCH_DRAIN_SECONDS,
 * BENCH_TIMEOUT (1200 s), BENCH_KEEP_TMP, BENCH_OUTPUT (docs/performance.md); KAFKA_BROKERS to
 * use an existing broker instead of starting one.
 *
 * Optional runs, after the default scenarios (or instead of them with `--scale-only` /
 * `--workers-only`), each spliced into the report as its own section: `--scale=10m` (bench/scale.ts:
 * a large SQLite file, cached under BENCH_SCALE_CACHE, against the 100k one) and `--workers=1,2`
 * (bench/workers.ts: the service with WORKERS=N on SQLite).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const state: { tmp?: string; kafkaStateDir?: string; keepTmp?: boolean } = {};

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    beginShutdown();
    abortLoad();
    await stopAll();
    if (state.kafkaStateDir !== undefined) {
      log('stopping the Kafka broker started for the bench …');
      await stopBroker(state.kafkaStateDir);
      state.kafkaStateDir = undefined;
    }
    if (state.tmp !== undefined) {
      if (state.keepTmp) log(`keeping the temp dir ${state.tmp} (BENCH_KEEP_TMP)`);
      else rmSync(state.tmp, { recursive: true, force: true });
    }
  })();
  return cleaning;
}

let exiting = false;
function exitAfterCleanup(code: number): void {
  if (exiting) return; // the first reason to exit decides the exit code
  exiting = true;
  const hard = setTimeout(() => {
    killAllSync();
    process.exit(code);
  }, 90_000);
  hard.unref();
  void cleanup().finally(() => process.exit(code));
}

/** Copies a closed SQLite database (and its WAL, if any) into `dir`; returns the new path. */
function copyDatabase(path: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const target = join(dir, basename(path));
  copyFileSync(path, target);
  for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) copyFileSync(path + suffix, target + suffix);
  return target;
}

/** Entities per request of the batch-read scenarios. */
const BATCH_SIZES = [1, 10, 100];
/**
 * The batch reads run with the single read's selection (seed.ts `BatchSelection` 'one'), against
 * which the targets are judged, at the run's connections and again at 10
 * (`BATCH_TARGET_CONNECTIONS`, the p99 target's load), for each of `BATCH_SIZES`; and once with
 * the multi-read's two records per entity, 100 entities at 10 connections, for reference. Seven
 * scenarios in one group, each measured `BATCH_MEASURED_SECONDS` (3 rounds of 2 s) instead of
 * the run's 10 s, so that the default run stays under five minutes.
 */
const BATCH_MEASURED_SECONDS = 6;
const BATCH_ROUNDS = 3;

/**
 * The read-latency targets measured at a steady rate as well: each connection pauses after each
 * response (a random pause, bench/wrk.ts), so 50 connections pausing 10 ms and 10 pausing 2 ms on
 * average each offer at most 5,000 req/s,
 * about half of what the service serves at saturation. At saturation a closed loop's mean
 * latency is connections ÷ req/s (Little's law), so its p99 says how long the queue is, not how
 * fast a request is served. Bare server and service alike, 3 rounds of 2 s after a 1 s warm-up.
 */
export const PACED_READS: readonly { connections: number; pauseMs: number }[] = [
  { connections: 50, pauseMs: 10 },
  { connections: BATCH_TARGET_CONNECTIONS, pauseMs: 2 },
];
const PACED_WARMUP_SECONDS = 1;

/** One request through fetch before a scenario: catches a misconfigured run before it floods. */
async function probe(baseUrl: string, method: 'GET' | 'POST', next: () => NextRequest, expect?: (body: string) => string | undefined): Promise<string | undefined> {
  const n = next();
  try {
    const res = await fetch(baseUrl + n.path, {
      method,
      ...(n.body === undefined ? {} : { body: n.body, headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status !== 200) return `${method} ${n.path} answered ${res.status}: ${text.slice(0, 300)}`;
    return expect?.(text);
  } catch (err) {
    return `${method} ${n.path} failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function describe(r: LoadResult): string {
  return `${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.cpuUsPerRequest.toFixed(0)} µs CPU/req${
    hadErrors(r) ? `, ERRORS (non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts})` : ''
  }`;
}

/**
 * Before each scenario: wait (bounded per scenario and per run) until other processes on the
 * machine are quiet, so that a colleague's test run does not end up in the numbers unnoticed.
 */
function quietGate(settings: BenchSettings, extraPids: () => number[]): (() => Promise<QuietState>) | undefined {
  if (settings.quietBudgetSeconds <= 0) return undefined;
  let budgetMs = settings.quietBudgetSeconds * 1000;
  const threshold = settings.quietThresholdPct;
  return async () => {
    if (budgetMs <= 0) {
      const pct = await foreignCpuPct(1_000, extraPids());
      return { waitedMs: 0, foreignPct: pct, quiet: pct < threshold };
    }
    const r = await waitForQuiet(threshold, Math.min(settings.quietMaxWaitSeconds * 1000, budgetMs), extraPids());
    budgetMs -= r.waitedMs;
    if (!r.quiet) {
      log(`  machine not quiet: other processes use ${Math.round(r.foreignPct)} % of a core (waited ${(r.waitedMs / 1000).toFixed(0)} s); running anyway`);
    } else if (r.waitedMs > 1_500) {
      log(`  waited ${(r.waitedMs / 1000).toFixed(0)} s for other processes to calm down (now ${Math.round(r.foreignPct)} %)`);
    }
    return r;
  };
}

// ------------------------------------------------------------------ main

async function main(settings: BenchSettings): Promise<number> {
  const startedAt = new Date();
  const t0 = performance.now();
  const tmp = mkdtempSync(join(tmpdir(), 'feature-store-bench-'));
  state.tmp = tmp;
  state.keepTmp = settings.keepTmp;
  const machine = machineInfo(ROOT, tmp);
  const notes: string[] = [];
  log(`temp dir ${tmp}; ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadAvg}`);

  // Build and (in parallel) get a Kafka broker for the events-on run.
  log('npm run build …');
  const defaults = !settings.scaleOnly && !settings.workersOnly;
  const brokerPromise: Promise<{ broker: Broker } | { reason: string }> =
    settings.kafka === 'off' || !defaults
      ? Promise.resolve({ reason: defaults ? 'skipped (BENCH_KAFKA=off)' : 'not needed (--scale-only / --workers-only)' })
      : acquireBroker(settings.kafkaBrokers, tmp, (dir) => (state.kafkaStateDir = dir)).catch((err: unknown) => ({
          reason: `could not get a Kafka broker: ${String(err)}`,
        }));
  const build = await buildService(ROOT);
  const command: ServiceCommand = build.command;
  if (build.buildError !== undefined) {
    log(`BUILD FAILED, running the service from source:\n${build.buildError}`);
    notes.push(`The build failed; the service ran from source through tsx.\n${build.buildError}`);
  }
  log(`built in ${(build.buildMs / 1000).toFixed(1)} s; service command: ${command.origin}`);
  log(settings.kafka === 'off' ? 'Kafka skipped' : 'waiting for the Kafka broker …');
  const brokerResult = await brokerPromise;
  const broker = 'broker' in brokerResult ? brokerResult.broker : undefined;
  const settle = quietGate(settings, () => (broker?.pid === undefined || state.kafkaStateDir === undefined ? [] : [broker.pid]));
  const settleOpt = settle === undefined ? {} : { settle };
  const noBroker = 'reason' in brokerResult ? brokerResult.reason : '';
  if (broker !== undefined) log(`Kafka at ${broker.brokers} (${broker.origin}, ${(broker.startMs / 1000).toFixed(1)} s)`);
  else log(`no Kafka broker: ${noBroker}`);

  // Seed.
  const set = dataSet(settings.seedRecords);
  const dbPath = join(tmp, 'sqlite', 'features.db');
  mkdirSync(dirname(dbPath), { recursive: true });
  log(`seeding ${set.records} records (${set.entities} entities, ${set.dual} with two categories) …`);
  const seed = await seedSqlite(dbPath, set, command.sqliteStoreModule);
  const dbMiB = statSync(dbPath).size / 1024 ** 2;
  log(`seeded in ${(seed.ms / 1000).toFixed(1)} s (${dbMiB.toFixed(0)} MiB)`);
  // The events-off and events-on services get their own copies: two service processes never share a file.
  const dbOff = copyDatabase(dbPath, join(tmp, 'sqlite-events-off'));
  const dbOn = copyDatabase(dbPath, join(tmp, 'sqlite-events-on'));
  // The scale and WORKERS runs start from the file as seeded, whatever the default scenarios wrote.
  const modes: ModesContext = {
    settings,
    command,
    machine,
    tmp,
    small: { path: copyDatabase(dbPath, join(tmp, 'sqlite-modes')), set, seedSeconds: seed.ms / 1000 },
    ...settleOpt,
  };
  if (!defaults) {
    const output = resolve(ROOT, settings.output);
    const existing = existsSync(output) ? readFileSync(output, 'utf8') : '# Performance\n\n_Generated by `npm run bench` (bench/run.ts)._\n';
    writeReport(output, await runModes(modes, existing));
    log(`whole run ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return 0;
  }

  // Service (events off) and bare server.
  const sqliteEnv = { STORE: 'sqlite', SQLITE_PATH: dbPath };
  const started = await startService('service-sqlite', command, sqliteEnv, { root: ROOT, logDir: tmp });
  if ('reason' in started) throw new Error(`the service did not start: ${started.reason}`);
  const svc: RunningService = started.service;
  log(`service pid ${svc.child.pid} at ${svc.url}`);

  const sampleRes = await fetch(svc.url + singleReadPath(entityValue(0)));
  const sample = await sampleRes.text();
  if (sampleRes.status !== 200) throw new Error(`seeded record not readable: ${sampleRes.status} ${sample}`);
  const bodyFile = join(tmp, 'bare-body.json');
  writeFileSync(bodyFile, sample);
  const barePort = await freePort();
  const bare = spawnChild('bare-server', process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'bare-server.ts')], {
    cwd: ROOT,
    env: baseEnv({ BARE_PORT: String(barePort), BARE_BODY_FILE: bodyFile }),
    logPath: join(tmp, 'bare-server.log'),
    stdinPipe: true,
  });
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const bareProblem = await waitForHttp(`${bareUrl}/`, bare, 20_000);
  if (bareProblem !== undefined) throw new Error(`${bareProblem}\n${tail(bare.logPath)}`);
  log(`bare server pid ${bare.pid} at ${bareUrl} (answers ${Buffer.byteLength(sample)} bytes)`);

  const gen = requestSources(set);
  const base = {
    loadgen: settings.loadgen,
    wrkThreads: settings.wrkThreads,
    connections: settings.connections,
    warmupSeconds: settings.warmup,
    durationSeconds: settings.duration,
    ...(broker?.pid === undefined ? {} : { helpers: { kafka: broker.pid } }),
  };
  const svcSpec = (label: string, src: RequestSource): LoadSpec => ({
    ...base,
    label,
    target: 'service (sqlite)',
    baseUrl: svc.url,
    pid: svc.child.pid,
    method: src.method,
    next: src.next,
    lua: src.lua,
  });
  const bareSpec = (label: string, src: RequestSource): LoadSpec => ({
    ...base,
    label,
    target: 'bare node:http',
    baseUrl: bareUrl,
    pid: bare.pid,
    method: src.method,
    next: src.next,
    lua: src.lua,
  });

  const multiCheck = (text: string): string | undefined => {
    const body = JSON.parse(text) as { items?: Record<string, unknown> };
    const n = Object.keys(body.items ?? {}).length;
    return n === 2 ? undefined : `multi-read returned ${n} categories instead of 2: ${text.slice(0, 300)}`;
  };
  const batchCheck =
    (categories: number) =>
    (text: string): string | undefined => {
      const body = JSON.parse(text) as { results?: { items: Record<string, unknown> }[] };
      const ok = body.results?.length === 10 && body.results.every((r) => Object.keys(r.items).length === categories);
      return ok ? undefined : `batch read did not return 10 entities with ${categories} categor${categories === 1 ? 'y' : 'ies'} each: ${text.slice(0, 300)}`;
    };
  const checks: [string, string | undefined][] = [
    ['single read', await probe(svc.url, 'GET', gen.single.next)],
    ['multi read', await probe(svc.url, 'POST', gen.multi.next, multiCheck)],
    ['batch read', await probe(svc.url, 'POST', gen.batch(10).next, batchCheck(2))],
    ['batch read, one category', await probe(svc.url, 'POST', gen.batch(10, 'one').next, batchCheck(1))],
    ['write', await probe(svc.url, 'POST', gen.write.next)],
    ['bare POST', await probe(bareUrl, 'POST', gen.write.next)],
  ];
  for (const [name, problem] of checks) {
    if (problem !== undefined) {
      log(`pre-flight check of ${name} FAILED: ${problem}`);
      notes.push(`Pre-flight check of ${name} failed: ${problem}`);
    }
  }

  const group = async (name: string, specs: LoadSpec[], rounds = settings.rounds): Promise<LoadResult[]> => {
    log(
      `${name}: ${specs.map((x) => `${x.target} ${x.label}`).join(', ')} — ${[...new Set(specs.map((x) => x.connections))].join(' and ')} connections, ` +
        `${settings.warmup} s warm-up each, then ${rounds} interleaved rounds, ${specs[0]?.durationSeconds ?? settings.duration} s measured each …`,
    );
    const results = await runRounds(specs, rounds, settle);
    for (const r of results) log(`  ${r.target} ${r.label}: ${describe(r)}`);
    return results;
  };
  const [bareGet, single, multi] = await group('reads', [
    bareSpec('bare GET', gen.single),
    svcSpec('single-category read', gen.single),
    svcSpec('multi-category read (2 categories)', gen.multi),
  ]);
  const pacedLoads = await group(
    'reads at a steady rate',
    PACED_READS.flatMap(({ connections, pauseMs }) =>
      [bareSpec('bare GET', paced(gen.single, pauseMs)), svcSpec('single-category read', paced(gen.single, pauseMs))].map((spec) => ({
        ...spec,
        label: `${spec.label}, ${connections} connections pausing ${pauseMs} ms on average`,
        connections,
        warmupSeconds: Math.min(settings.warmup, PACED_WARMUP_SECONDS),
        durationSeconds: Math.min(settings.duration, BATCH_MEASURED_SECONDS),
      })),
    ),
    BATCH_ROUNDS,
  );
  const pacedReads = PACED_READS.map(({ connections, pauseMs }, i) => ({
    connections,
    pauseMs,
    bare: pacedLoads[2 * i] as LoadResult,
    service: pacedLoads[2 * i + 1] as LoadResult,
  }));
  const [barePost, write] = await group('writes', [bareSpec('bare POST', gen.write), svcSpec('write', gen.write)]);
  const batchRuns: { selection: BatchSelection; entities: number; connections: number }[] = [
    ...[...new Set([settings.connections, BATCH_TARGET_CONNECTIONS])].flatMap((connections) =>
      BATCH_SIZES.map((entities) => ({ selection: 'one' as const, entities, connections })),
    ),
    { selection: 'two', entities: 100, connections: BATCH_TARGET_CONNECTIONS },
  ];
  const batchLoads = await group(
    'batch reads',
    batchRuns.map(({ selection, entities: n, connections }) => ({
      ...svcSpec(
        `batch read${selection === 'one' ? ' (single read\'s selection)' : ''}, ${n} entit${n === 1 ? 'y' : 'ies'} per request, ${connections} connections`,
        gen.batch(n, selection),
      ),
      connections,
      durationSeconds: Math.min(settings.duration, BATCH_MEASURED_SECONDS),
    })),
    BATCH_ROUNDS,
  );
  if (bareGet === undefined || single === undefined || multi === undefined || barePost === undefined || write === undefined) {
    throw new Error('missing results');
  }
  const batch = batchRuns.map(({ selection, entities, connections }, i) => ({ selection, entities, connections, load: batchLoads[i] as LoadResult }));
  const memory: { process: string; memory: MemoryStatus | undefined }[] = [
    { process: 'service, sqlite, events off (after reads and writes)', memory: processMemory(svc.child.pid) },
    { process: 'bare node:http server', memory: processMemory(bare.pid) },
  ];
  notes.push(...unexpectedExit(svc));
  await stopChild(svc.child);
  await stopChild(bare);

  // Events on vs off: two fresh service processes (own database copies), interleaved.
  const events: EventsSection = { measured: false };
  if (broker === undefined) {
    events.reason = `no Kafka broker: ${noBroker}`;
  } else {
    Object.assign(events, await runEvents(command, { STORE: 'sqlite', SQLITE_PATH: dbOff }, { STORE: 'sqlite', SQLITE_PATH: dbOn }, tmp, broker, gen.write, settings, settle, notes));
  }
  if (events.memory !== undefined) memory.push({ process: 'service, sqlite, events on (after its writes)', memory: events.memory });
  if (!events.measured) log(`events on vs off NOT MEASURED: ${events.reason ?? ''}`);

  // Profiles (optional): separate service processes under --cpu-prof.
  const profiles: ReportData['profiles'] = [];
  if (settings.profile) {
    const one = { ...base, helpers: {} };
    log('profiling a service process (node --cpu-prof) on the single-category read …');
    const p = await profileService({
      name: 'service-sqlite-profiled',
      command,
      env: sqliteEnv,
      root: ROOT,
      tmpDir: tmp,
      load: (baseUrl, pid) => ({ ...one, label: 'single-category read (profiled)', target: 'service (sqlite, --cpu-prof)', baseUrl, pid, method: 'GET', next: gen.single.next, lua: gen.single.lua }),
    });
    if ('load' in p) log(`  under the profiler: ${describe(p.load)}`);
    profiles.push({ title: 'SQLite, single-category read', scenario: 'single-category read', result: 'summary' in p ? p.summary : p, threads: 'threads' in p ? p.threads : [] });
    if (events.measured && broker !== undefined) {
      log('profiling a service process (node --cpu-prof) on the write scenario with events on …');
      const q = await profileService({
        name: 'service-events-on-profiled',
        command,
        env: { STORE: 'sqlite', SQLITE_PATH: dbOn, KAFKA_BROKERS: broker.brokers, TOPIC_NAME: TOPIC },
        root: ROOT,
        tmpDir: tmp,
        load: (baseUrl, pid) => ({ ...one, label: 'write, events on (profiled)', target: 'service (sqlite, events on, --cpu-prof)', baseUrl, pid, method: 'POST', next: gen.write.next, lua: gen.write.lua }),
      });
      if ('load' in q) log(`  under the profiler: ${describe(q.load)}`);
      profiles.push({
        title: 'SQLite, write with events on (outbox + relay → Kafka)',
        scenario: 'write (events on)',
        result: 'summary' in q ? q.summary : q,
        threads: 'threads' in q ? q.threads : [],
      });
    }
  }
  if (state.kafkaStateDir !== undefined) {
    log('stopping the Kafka broker …');
    await stopBroker(state.kafkaStateDir);
    state.kafkaStateDir = undefined;
  }

  // DynamoDB.
  let dynamo: ReportData['dynamo'];
  if (settings.dynamo === 'off') {
    dynamo = { skipped: 'skipped (BENCH_DYNAMO=off)' };
  } else {
    log('DynamoDB backend against dynalite …');
    dynamo = await runDynamo({
      root: ROOT,
      tmpDir: tmp,
      command,
      records: settings.dynamoSeedRecords,
      connections: settings.dynamoConnections,
      warmupSeconds: settings.dynamoWarmup,
      durationSeconds: settings.dynamoDuration,
      profile: settings.profile,
      loadgen: settings.loadgen,
      log,
      ...settleOpt,
    });
    if (dynamo.profile !== undefined) {
      profiles.push({ title: 'DynamoDB (dynalite), single-category read', scenario: 'DynamoDB single-category read', result: dynamo.profile, threads: [] });
    }
    if (!dynamo.measured) log(`DynamoDB NOT MEASURED: ${dynamo.reason ?? ''}`);
    for (const row of dynamo.rows) log(`  dynamodb ${row.load.label}: ${describe(row.load)}`);
    for (const c of dynamo.perCall) log(`  dynamodb ${c.call}: ${c.perCall.toFixed(2)} DynamoDB requests per call ${JSON.stringify(c.byOp)}`);
    if (dynamo.memory !== undefined) memory.push({ process: 'service, dynamodb (after its runs)', memory: dynamo.memory });
  }

  for (const r of [bareGet, single, multi, barePost, write, ...batchLoads]) {
    if (hadErrors(r)) notes.push(`${r.target} ${r.label} had failed requests: ${JSON.stringify(r.statusCodes)}, errors ${r.errors}, timeouts ${r.timeouts}.`);
    if (r.otherCpuPct > 15) {
      notes.push(`${r.target} ${r.label}: other processes used ${Math.round(r.otherCpuPct)} % of a core during the run; the machine was not quiet.`);
    }
  }

  // Errors any service process logged (crashes, 5xx causes): into the report, not lost with the temp dir.
  for (const file of readdirSync(tmp).filter((f) => f.startsWith('service-') && f.endsWith('.log')).sort()) {
    const problems = problemLines(join(tmp, file), 12, true);
    if (problems !== '') notes.push(`${file} logged errors or warnings (last ${problems.split('\n').length} shown):\n${problems}`);
  }

  const report = renderReport({
    settings,
    machine,
    startedAt,
    totalSeconds: (performance.now() - t0) / 1000,
    serviceOrigin: command.origin,
    buildSeconds: build.buildMs / 1000,
    seed: { records: set.records, entities: set.entities, dual: set.dual, seconds: seed.ms / 1000, dbMiB },
    responseBytes: Buffer.byteLength(sample),
    writeBodyBytes: Buffer.byteLength(gen.write.next().body ?? ''),
    bareGet,
    barePost,
    single,
    multi,
    write,
    batch,
    pacedReads,
    memory,
    events,
    dynamo,
    profiles,
    notes,
  });
  writeReport(resolve(ROOT, settings.output), await runModes(modes, report));
  log(`whole run ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return 0;
}

function writeReport(output: string, report: string): void {
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, report);
  process.stdout.write(`${report}\n`);
  log(`report written to ${output}`);
}

interface ModesContext {
  settings: BenchSettings;
  command: ServiceCommand;
  machine: MachineInfo;
  tmp: string;
  /** A copy of the seeded 100k file, untouched by the default scenarios. */
  small: { path: string; set: DataSet; seedSeconds: number };
  settle?: () => Promise<QuietState>;
}

/**
 * The optional runs (`--scale`, `--workers`), each spliced into `report` as its own section
 * (replacing the section of an earlier run); the report comes back unchanged when neither ran.
 */
async function runModes(c: ModesContext, report: string): Promise<string> {
  const s = c.settings;
  const common = {
    root: ROOT,
    tmpDir: c.tmp,
    command: c.command,
    loadgen: s.loadgen,
    wrkThreads: s.wrkThreads,
    warmupSeconds: s.warmup,
    durationSeconds: s.duration,
    rounds: s.rounds,
    log,
    ...(c.settle === undefined ? {} : { settle: c.settle }),
  };
  let out = report;
  if (s.scaleRecords > 0) {
    const startedAt = new Date();
    const t0 = performance.now();
    const large = await scaleDatabase(resolve(ROOT, s.scaleCacheDir), s.scaleRecords, c.command.sqliteStoreModule, log);
    log(`scale: ${large.set.records} records, ${(large.fileBytes / 1024 ** 2).toFixed(0)} MiB (${Math.round(large.fileBytes / large.set.records)} bytes/record), seeded in ${large.seedSeconds.toFixed(0)} s`);
    const section = await runScale({ ...common, large, small: c.small });
    out = spliceSection(out, 'scale', scaleReport(section, c.machine, startedAt, (performance.now() - t0) / 1000));
  }
  if (s.workers.length > 0) {
    const startedAt = new Date();
    const t0 = performance.now();
    const section = await runWorkers({ ...common, dbPath: c.small.path, set: c.small.set, workers: s.workers, connections: s.connections });
    out = spliceSection(out, 'workers', workersReport(section, c.machine, startedAt, (performance.now() - t0) / 1000));
  }
  return out;
}

/**
 * Events on vs off: a second service process with KAFKA_BROKERS on the same database, driven in
 * rounds interleaved with the events-off service, then a bounded wait until every acknowledged
 * write's event is in the topic.
 */
async function runEvents(
  command: ServiceCommand,
  offEnv: Record<string, string>,
  onEnv: Record<string, string>,
  tmp: string,
  broker: Broker,
  writes: RequestSource,
  settings: BenchSettings,
  settle: (() => Promise<QuietState>) | undefined,
  notes: string[],
): Promise<EventsSection> {
  const section: EventsSection = { measured: false, brokerOrigin: `${broker.brokers}, ${broker.origin}` };
  const before = await topicEndOffsets(broker.brokers, TOPIC);
  if (before === undefined) {
    section.reason = `topic ${TOPIC} is not readable on ${broker.brokers}`;
    return section;
  }
  const startedOff = await startService('service-events-off', command, offEnv, { root: ROOT, logDir: tmp });
  if ('reason' in startedOff) {
    section.reason = `the events-off service did not start: ${startedOff.reason}`;
    return section;
  }
  const offService = startedOff.service;
  const started = await startService('service-events-on', command, { ...onEnv, KAFKA_BROKERS: broker.brokers, TOPIC_NAME: TOPIC }, {
    root: ROOT,
    logDir: tmp,
  });
  if ('reason' in started) {
    await stopChild(offService.child);
    section.reason = `the service did not start with KAFKA_BROKERS=${broker.brokers}: ${started.reason}`;
    return section;
  }
  const svc = started.service;
  try {
    const problem = await probe(svc.url, 'POST', writes.next);
    if (problem !== undefined) log(`events-on pre-flight write FAILED: ${problem}`);
    const common = {
      method: 'POST' as const,
      next: writes.next,
      lua: writes.lua,
      loadgen: settings.loadgen,
      wrkThreads: settings.wrkThreads,
      connections: settings.connections,
      warmupSeconds: settings.warmup,
      durationSeconds: settings.duration,
      ...(broker.pid === undefined ? {} : { helpers: { kafka: broker.pid } }),
    };
    log(
      `events: write with events off vs on — ${settings.connections} connections, ${settings.warmup} s warm-up each, ` +
        `then ${settings.rounds} interleaved rounds, ${settings.duration} s measured each …`,
    );
    const [off, on] = await runRounds(
      [
        { ...common, label: 'write, events off', target: 'service (sqlite, events off)', baseUrl: offService.url, pid: offService.child.pid },
        { ...common, label: 'write, events on', target: 'service (sqlite, events on)', baseUrl: svc.url, pid: svc.child.pid },
      ],
      settings.rounds,
      settle,
    );
    if (off === undefined || on === undefined) throw new Error('missing results');
    log(`  events off: ${describe(off)}`);
    log(`  events on:  ${describe(on)}`);
    section.on = on;
    section.off = off;
    section.memory = processMemory(svc.child.pid);
    section.acknowledged = on.ok + (on.warmup.responses - on.warmup.non2xx) + (problem === undefined ? 1 : 0);

    // Wait (bounded) until every acknowledged write's event is in the topic; give up early
    // when nothing moves for 15 s (no relay running).
    const t0 = performance.now();
    const deadline = t0 + settings.drainSeconds * 1000;
    let published = 0;
    let lastProgress = t0;
    while (performance.now() < deadline) {
      const end = await topicEndOffsets(broker.brokers, TOPIC);
      const now = end === undefined ? published : end - before;
      if (now > published) lastProgress = performance.now();
      published = now;
      if (published >= section.acknowledged) break;
      if (performance.now() - lastProgress > 15_000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    section.published = published;
    section.drainSeconds = (performance.now() - t0) / 1000;
    section.drainComplete = published >= section.acknowledged;
    try {
      const h = await fetch(`${svc.url}/api/v1/health`, { signal: AbortSignal.timeout(5_000) });
      const body = (await h.json()) as { status?: string; events?: unknown };
      section.health = `${h.status} status=${body.status ?? '?'} events=${JSON.stringify(body.events ?? null)}`;
    } catch {
      section.health = undefined;
    }
    log(`  events in Kafka: ${published} for ${section.acknowledged} acknowledged writes, ${section.drainSeconds.toFixed(1)} s after the load`);
    section.measured = true;
    return section;
  } finally {
    notes.push(...unexpectedExit(offService), ...unexpectedExit(svc));
    await stopChild(offService.child, 15_000);
    await stopChild(svc.child, 15_000);
  }
}

/** A note with the end of the log of a service that exited while it should have been running. */
function unexpectedExit(service: RunningService): string[] {
  const status = service.child.exitStatus();
  if (status === undefined) return [];
  return [`${service.name} (pid ${service.child.pid}) EXITED during the run (${status}). Its log ends with:\n${problemLines(service.child.logPath)}`];
}

// ------------------------------------------------------------------ entry

process.once('SIGINT', () => {
  log('interrupted: cleaning up …');
  exitAfterCleanup(130);
});
process.once('SIGTERM', () => {
  log('terminated: cleaning up …');
  exitAfterCleanup(143);
});
process.on('exit', () => killAllSync());

let settings: BenchSettings;
try {
  settings = loadSettings(process.env, process.argv.slice(2));
} catch (err) {
  log(err instanceof Error ? err.message : String(err));
  process.exit(2);
}

const watchdog = setTimeout(() => {
  log(`BENCH_TIMEOUT (${settings.timeoutSeconds} s) reached: cleaning up and giving up`);
  exitAfterCleanup(1);
}, settings.timeoutSeconds * 1000);
watchdog.unref();

main(settings).then(
  (code) => {
    clearTimeout(watchdog);
    exitAfterCleanup(code);
  },
  (err: unknown) => {
    log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    exitAfterCleanup(1);
  },
);
