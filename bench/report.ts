import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';
import type { DynamoSection } from './dynamo.js';
import { hadErrors, type LoadResult } from './load.js';
import type { MemoryStatus } from './procs.js';
import type { ProfileSummary } from './profile.js';
import type { BatchSelection } from './seed.js';
import type { BenchSettings } from './settings.js';
import { BATCH_P99_MS, BATCH_RATIO, BATCH_TARGET_CONNECTIONS, batchVerdict, roundSpread } from './verdicts.js';

/** The machine and the report: markdown tables, printed and written to docs/performance.md. */

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  os: string;
  kernel: string;
  node: string;
  filesystem: string;
  loadAvg: string;
  commit: string;
}

function readOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Filesystem type and device of the mount holding `dir` (longest mount-point prefix). */
function filesystemOf(dir: string): string {
  let best = { mount: '', text: 'unknown' };
  for (const line of readOr('/proc/mounts').split('\n')) {
    const [device, mount, type] = line.split(' ');
    if (device === undefined || mount === undefined || type === undefined) continue;
    const prefix = mount.endsWith('/') ? mount : `${mount}/`;
    if ((dir === mount || dir.startsWith(prefix)) && mount.length >= best.mount.length) {
      best = { mount, text: `${type} (${device} on ${mount})` };
    }
  }
  return best.text;
}

function git(root: string, args: string[]): string {
  try {
    return execFileSync('git', ['--no-optional-locks', ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function machineInfo(root: string, dataDir: string): MachineInfo {
  const cpuinfo = readOr('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const processors = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const osName = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readOr('/etc/os-release'))?.[1] ?? process.platform;
  const head = git(root, ['rev-parse', '--short', 'HEAD']);
  const dirty = git(root, ['status', '--porcelain', '--untracked-files=no']) !== '';
  return {
    cpu: model,
    cores: processors || availableParallelism(),
    ramGiB: totalmem() / 1024 ** 3,
    os: osName,
    kernel: release(),
    node: process.version,
    filesystem: filesystemOf(dataDir),
    loadAvg: readOr('/proc/loadavg').split(' ').slice(0, 3).join(' '),
    commit: head === '' ? 'unknown' : `${head}${dirty ? ' + uncommitted changes' : ''}`,
  };
}

// ------------------------------------------------------------------ formatting

export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const fix = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
export const pct = (n: number): string => (Number.isFinite(n) ? `${Math.round(n)} %` : 'n/a');

export function table(headers: string[], rows: string[][], right: boolean[] = []): string {
  const align = headers.map((_, i) => (right[i] === true ? '---:' : '---'));
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(headers), `|${align.join('|')}|`, ...rows.map(line)].join('\n');
}

export function status(r: LoadResult): string {
  if (!hadErrors(r)) return 'ok';
  const codes = Object.entries(r.statusCodes)
    .filter(([c]) => !c.startsWith('2'))
    .map(([c, n]) => `${n}×${c}`)
    .join(', ');
  const parts = [
    r.non2xx > 0 ? `${r.non2xx} non-2xx${codes === '' ? '' : ` (${codes})`}` : '',
    r.errors > 0 ? `${r.errors} errors` : '',
    r.timeouts > 0 ? `${r.timeouts} timeouts` : '',
    r.warmup.non2xx + r.warmup.errors > 0 ? `warm-up: ${r.warmup.non2xx} non-2xx, ${r.warmup.errors} errors` : '',
  ].filter((p) => p !== '');
  return `**ERRORS**: ${parts.join('; ')}`;
}

// ------------------------------------------------------------------ report

export interface EventsSection {
  measured: boolean;
  reason?: string;
  brokerOrigin?: string;
  off?: LoadResult;
  on?: LoadResult;
  /** Writes acknowledged with 200 while events were on (warm-up + measured + probe). */
  acknowledged?: number;
  /** Messages that reached the topic. */
  published?: number;
  /** Seconds after the measured run until every acknowledged write's event was in Kafka. */
  drainSeconds?: number;
  drainComplete?: boolean;
  health?: string;
  memory?: MemoryStatus;
}

export interface ReportData {
  settings: BenchSettings;
  machine: MachineInfo;
  startedAt: Date;
  totalSeconds: number;
  serviceOrigin: string;
  buildSeconds: number;
  seed: { records: number; entities: number; dual: number; seconds: number; dbMiB: number };
  responseBytes: number;
  writeBodyBytes: number;
  bareGet: LoadResult;
  barePost: LoadResult;
  single: LoadResult;
  multi: LoadResult;
  write: LoadResult;
  /** Batch reads (`POST /api/v1/get/items/batch`) by selection (seed.ts `BatchSelection`), entities per request and connections. */
  batch: { selection: BatchSelection; entities: number; connections: number; load: LoadResult }[];
  /** The single read and the bare GET at a steady rate (bench/run.ts `PACED_READS`). */
  pacedReads: { connections: number; pauseMs: number; bare: LoadResult; service: LoadResult }[];
  memory: { process: string; memory: MemoryStatus | undefined }[];
  events: EventsSection;
  dynamo: DynamoSection | { skipped: string };
  profiles: { title: string; scenario: string; result: ProfileSummary | { reason: string }; threads: ProfileSummary[] }[];
  notes: string[];
}

function ratio(a: LoadResult, base: LoadResult): number {
  return base.rps > 0 ? a.rps / base.rps : NaN;
}

/**
 * A ratio judged on the group's totals, with the spread of its per-round ratios beside it: one
 * run's ratio near a line moves by a few hundredths between runs of the same build, and the
 * rounds show how much of that is inside this run.
 */
function ratioWithRounds(a: LoadResult, base: LoadResult, unit = ''): string {
  const total = `${fix(ratio(a, base))}${unit}`;
  const s = roundSpread(a.roundRps, base.roundRps);
  return s === undefined ? total : `${total} (${s.rounds} rounds: ${fix(s.min)}–${fix(s.max)}, median ${fix(s.median)})`;
}

function resultRow(r: LoadResult, base: LoadResult | undefined): string[] {
  return [
    r.label,
    r.target,
    String(r.connections),
    int(r.rps),
    fix(r.p50),
    fix(r.p99),
    base === undefined ? 'baseline' : `${fix(ratio(r, base))}×`,
    fix(r.cpuUsPerRequest, 0),
    pct(r.cpuPct),
    status(r),
  ];
}

const RESULT_HEADERS = ['Scenario', 'Target', 'Conns', 'req/s', 'p50 ms', 'p99 ms', 'vs bare', 'Target CPU µs/req', 'Target CPU', 'Status'];
const RESULT_RIGHT = [false, false, true, true, true, true, true, true, true, false];

export function resultsTable(d: ReportData): string {
  return table(
    RESULT_HEADERS,
    [
      resultRow(d.bareGet, undefined),
      resultRow(d.single, d.bareGet),
      resultRow(d.multi, d.bareGet),
      resultRow(d.barePost, undefined),
      resultRow(d.write, d.barePost),
    ],
    RESULT_RIGHT,
  );
}

function conditionsTable(rows: LoadResult[], helperNames: string[]): string {
  return table(
    [
      'Scenario',
      'Target',
      'Responses',
      'Bytes/resp',
      'p90 ms',
      'p99.9 ms',
      'max ms',
      'Load generator',
      'Load generator CPU',
      'Load generator CPU µs/req',
      'Harness CPU',
      ...helperNames.map((h) => `${h} CPU`),
      'Machine busy',
      'Other processes',
      'Other processes just before',
    ],
    rows.map((r) => [
      r.label,
      r.target,
      int(r.responses),
      int(r.bytesPerResponse),
      fix(r.p90),
      fix(r.p999),
      fix(r.max),
      r.loadgen,
      pct(r.loadgenCpuPct),
      fix(r.loadgenCpuUsPerRequest, 0),
      pct(r.harnessCpuPct),
      ...helperNames.map((h) => pct(r.helperCpuPct[h] ?? NaN)),
      pct(r.machineBusyPct),
      pct(r.otherCpuPct),
      r.before === undefined
        ? 'not checked'
        : `${pct(r.before.foreignPct)}${r.before.waitedMs > 1_500 ? ` (waited ${fix(r.before.waitedMs / 1000, 0)} s)` : ''}`,
    ]),
    [false, false, true, true, true, true, true, false, true, true, true, ...helperNames.map(() => true), true, true, true],
  );
}

function targetsTable(d: ReportData): string {
  const rows: string[][] = [];
  const check = (name: string, goal: string, measured: string, ok: boolean | undefined): void => {
    rows.push([name, goal, measured, ok === undefined ? 'not measured' : ok ? 'yes' : '**no**']);
  };
  const single = ratio(d.single, d.bareGet);
  const multi = ratio(d.multi, d.bareGet);
  const write = ratio(d.write, d.barePost);
  const ratioCheck = (name: string, r: LoadResult, base: LoadResult, value: number, goal: number): void =>
    check(name, `≥ ${fix(goal)}×`, ratioWithRounds(r, base, '×'), Number.isFinite(value) ? value >= goal && !hadErrors(r) : undefined);
  ratioCheck('Single-category read vs bare GET (stretch 0.75×)', d.single, d.bareGet, single, 0.6);
  ratioCheck('Multi-category read vs bare GET', d.multi, d.bareGet, multi, 0.45);
  ratioCheck('Write vs bare POST', d.write, d.barePost, write, 0.45);
  check(
    `p99, single-category read, ${d.single.connections} connections at saturation (bare GET: ${fix(d.bareGet.p99)} ms)`,
    '≤ 5 ms',
    `${fix(d.single.p99)} ms`,
    d.single.p99 <= 5,
  );
  for (const p of d.pacedReads) {
    const goal = p.connections >= 50 ? 5 : 1;
    check(
      `p99, single-category read, ${p.connections} connections pausing ${p.pauseMs} ms on average (${int(p.service.rps)} req/s; bare GET: ${fix(p.bare.p99)} ms)`,
      `≤ ${goal} ms`,
      `${fix(p.service.p99)} ms`,
      p.service.p99 <= goal && !hadErrors(p.service),
    );
  }
  for (const r of [d.multi, d.write]) {
    check(`p99, ${r.label}, ${r.connections} connections at saturation`, '< 10 ms', `${fix(r.p99)} ms`, r.p99 < 10);
  }
  const peakOf = (prefix: string): number =>
    Math.max(...d.memory.filter((m) => m.process.startsWith(prefix)).map((m) => m.memory?.hwmMiB ?? NaN).filter(Number.isFinite));
  const mb = (mib: number): string => `${fix(mib * 1.048576, 0)} MB (${fix(mib, 0)} MiB)`;
  const sqlitePeak = peakOf('service, sqlite');
  check('Peak RSS (VmHWM), SQLite service, events off and on', '< 200 MB', mb(sqlitePeak), Number.isFinite(sqlitePeak) ? sqlitePeak * 1.048576 < 200 : undefined);
  const dynamoPeak = peakOf('service, dynamodb');
  if (Number.isFinite(dynamoPeak)) {
    check('Peak RSS (VmHWM), DynamoDB service (for comparison)', '< 200 MB', mb(dynamoPeak), dynamoPeak * 1.048576 < 200);
  }
  if (d.events.measured && d.events.on !== undefined && d.events.off !== undefined) {
    const e = ratio(d.events.on, d.events.off);
    check('Writes, events on / events off', '≥ 0.80', ratioWithRounds(d.events.on, d.events.off), e >= 0.8 && !hadErrors(d.events.on));
  } else {
    check('Writes, events on / events off', '≥ 0.80', 'not measured', undefined);
  }
  return table(['Target', 'Goal', 'Measured', 'Met'], rows);
}

function notMeasured(reason: string | undefined): string {
  const text = (reason ?? 'no reason recorded').trim();
  const [first = '', ...rest] = text.split('\n');
  return rest.length === 0 ? `**Not measured.** ${first}` : `**Not measured.** ${first}\n\n\`\`\`\n${rest.join('\n')}\n\`\`\``;
}

function eventsPart(d: ReportData): string {
  const e = d.events;
  const off = e.off;
  if (!e.measured || e.on === undefined || off === undefined) {
    return notMeasured(e.reason);
  }
  const rows = [off, e.on].map((r, i) => [
    i === 0 ? 'off: the service above (no KAFKA_BROKERS)' : 'on: a second service process with KAFKA_BROKERS (outbox + relay → Kafka)',
    int(r.rps),
    fix(r.p50),
    fix(r.p99),
    fix(r.cpuUsPerRequest, 0),
    pct(r.cpuPct),
    i === 0 ? '1.00' : fix(ratio(r, off)),
    status(r),
  ]);
  const parts = [
    table(['Events', 'write req/s', 'p50 ms', 'p99 ms', 'Service CPU µs/req', 'Service CPU', 'on / off', 'Status'], rows, [
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      false,
    ]),
    '',
    `- Broker: ${e.brokerOrigin ?? 'unknown'}${
      e.on.helperCpuPct.kafka === undefined ? '' : `; broker CPU during the events-on run: ${pct(e.on.helperCpuPct.kafka)} of one core (same machine)`
    }.`,
    `- Events in Kafka: ${int(e.published ?? NaN)} for ${int(e.acknowledged ?? NaN)} writes acknowledged with 200 ${
      e.drainComplete === true
        ? `(all arrived, ${fix(e.drainSeconds ?? NaN, 1)} s after the load stopped)`
        : `(**incomplete** after waiting ${fix(e.drainSeconds ?? NaN, 1)} s)`
    }. A few more events than acknowledged writes is expected: writes in flight when autocannon stopped were applied but not ` +
      'counted, and delivery is at-least-once.',
  ];
  if (e.health !== undefined) parts.push(`- Health after the run: \`${e.health}\``);
  return parts.join('\n');
}

function dynamoPart(d: ReportData): string {
  const s = d.dynamo;
  if ('skipped' in s) return `**Not measured.** ${s.skipped}`;
  if (!s.measured) return notMeasured(s.reason);
  const rows = s.rows.map((r) => [
    r.load.label,
    String(r.load.connections),
    int(r.load.rps),
    r.entities === undefined ? '—' : int(r.load.rps * r.entities),
    fix(r.load.p50),
    fix(r.load.p99),
    fix(r.load.cpuUsPerRequest, 0),
    pct(r.load.cpuPct),
    fix(r.emulatorUsPerRequest, 0),
    pct(r.load.helperCpuPct.dynalite ?? NaN),
    status(r.load),
  ]);
  const exact = s.perCall.map((c) => [
    c.call,
    fix(c.perCall),
    Object.entries(c.byOp)
      .map(([op, n]) => `${op} ${int(n)}`)
      .join(', '),
    c.failed > 0 ? `**${c.failed} of ${c.calls} failed**` : `${c.calls} ok`,
  ]);
  const lines = [
    table(
      ['Scenario', 'Conns', 'req/s', 'entities/s', 'p50 ms', 'p99 ms', 'Service CPU µs/req', 'Service CPU', 'Emulator CPU µs/req', 'Emulator CPU', 'Status'],
      rows,
      [false, true, true, true, true, true, true, true, true, true, false],
    ),
    '',
    `DynamoDB requests per API call, counted at the proxy over ${s.perCall[0]?.calls ?? 0} sequential calls of each kind (nothing in flight, so the count is exact):`,
    '',
    table(['API call', 'DynamoDB requests / call', 'Requests by operation', 'Calls'], exact, [false, true, false, false]),
    '',
    `- Tables created via ${s.tablesVia ?? 'unknown'}.`,
  ];
  if (s.seed !== undefined) {
    lines.push(
      `- Seeded ${int(s.seed.ok)} of ${int(s.seed.records)} records through \`POST /api/v1/items\` in ${fix(s.seed.ms / 1000, 1)} s ` +
        `(${fix(s.seed.perCall)} DynamoDB requests per write${s.seed.failed > 0 ? `; **${s.seed.failed} failed**: ${s.seed.firstError ?? ''}` : ''}).`,
    );
  }
  if (s.memory !== undefined) lines.push(`- Service RSS after the runs: ${fix(s.memory.rssMiB, 0)} MiB (peak ${fix(s.memory.hwmMiB, 0)} MiB).`);
  return lines.join('\n');
}

function threadPart(t: ProfileSummary): string {
  return [
    `Worker thread ${t.thread} (its own profile): busy ${fix(t.busyMs / 1000, 1)} s of the ${fix(t.windowSeconds, 1)} s window.`,
    '',
    table(
      ['#', 'Function', 'Location', 'Area', 'Self ms', 'Share'],
      t.top.slice(0, 8).map((f, i) => [String(i + 1), `\`${f.name}\``, f.where === '' ? '' : `\`${f.where}\``, f.area, int(f.ms), `${fix(f.pct, 1)} %`]),
      [true, false, false, false, true, true],
    ),
  ].join('\n');
}

function profilePart(p: ProfileSummary | { reason: string }, scenario: string, threads: ProfileSummary[]): string {
  if ('reason' in p) return notMeasured(p.reason).replace('Not measured', 'No profile');
  return [
    `A separate service process started with \`node --cpu-prof\` and driven with the ${scenario} scenario as above; only the ` +
      `${fix(p.windowSeconds, 1)} s in the middle of the measured run are counted (no start-up, warm-up or shutdown). ` +
      `Main thread: self time as a share of the ${fix(p.busyMs / 1000, 1)} s it was busy in that window (idle excluded). ` +
      'Time in native addon code (better-sqlite3) is charged to the JavaScript function that called it.',
    '',
    table(
      ['Where the code lives', 'Self ms', 'Share'],
      p.areas.slice(0, 15).map((a) => [a.area, int(a.ms), `${fix(a.pct, 1)} %`]),
      [false, true, true],
    ),
    '',
    table(
      ['#', 'Function', 'Location', 'Area', 'Self ms', 'Share'],
      p.top.map((f, i) => [String(i + 1), `\`${f.name}\``, f.where === '' ? '' : `\`${f.where}\``, f.area, int(f.ms), `${fix(f.pct, 1)} %`]),
      [true, false, false, false, true, true],
    ),
    ...threads.flatMap((t) => ['', threadPart(t)]),
  ].join('\n');
}

const SELECTION_LABELS: Record<BatchSelection, string> = {
  one: "single read's: d0:* (1 record)",
  two: "multi-read's: d0:* + 2 ncr (2 records)",
};

/** The single read and the bare GET at a steady rate, side by side per pace. */
function pacedPart(d: ReportData): string {
  return table(
    ['Connections', 'Mean pause after each response', 'Offered at most', 'Target', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'Target CPU µs/req', 'Status'],
    d.pacedReads.flatMap((p) =>
      [p.bare, p.service].map((r) => [
        int(p.connections),
        `${fix(p.pauseMs, 0)} ms`,
        `${int((p.connections * 1000) / p.pauseMs)} req/s`,
        r.target,
        int(r.rps),
        fix(r.p50),
        fix(r.p90),
        fix(r.p99),
        fix(r.p999),
        fix(r.max),
        fix(r.cpuUsPerRequest, 0),
        status(r),
      ]),
    ),
    [true, true, true, false, true, true, true, true, true, true, true, false],
  );
}

/** Batch reads: requests and entities per second, latency, CPU per entity. */
function batchPart(d: ReportData): string {
  return table(
    ['Selection per entity', 'Entities per request', 'Connections', 'req/s', 'entities/s', 'p50 ms', 'p99 ms', 'Target CPU µs/entity', 'Bytes/resp', 'Status'],
    d.batch.map(({ selection, entities, connections, load: r }) => [
      SELECTION_LABELS[selection],
      int(entities),
      int(connections),
      int(r.rps),
      int(r.rps * entities),
      fix(r.p50),
      fix(r.p99),
      fix(r.cpuUsPerRequest / entities, 0),
      int(r.bytesPerResponse),
      status(r),
    ]),
    [false, true, true, true, true, true, true, true, true, false],
  );
}

const yes = (ok: boolean): string => (ok ? 'yes' : '**no**');

/**
 * The batch-read targets against the 100-entity runs at 10 connections: judged on the single
 * read's selection (like for like: one record per entity, as the single read returns), with the
 * multi-read's selection beside for reference.
 */
function batchTargets(d: ReportData): string {
  const runOf = (selection: BatchSelection) => d.batch.find((b) => b.selection === selection && b.entities === 100 && b.connections === BATCH_TARGET_CONNECTIONS);
  const run = runOf('one');
  if (run === undefined) return `Targets not checked: no batch read of 100 entities with the single read's selection at ${BATCH_TARGET_CONNECTIONS} connections in this run.`;
  const v = batchVerdict(d.single, { rps: run.load.rps, p99: run.load.p99, entities: run.entities });
  const rows = [
    [`entities/s, 100 per request (single read's selection), ${BATCH_TARGET_CONNECTIONS} connections / single-read req/s`, `${fix(v.ratio)}× (${int(run.load.rps * run.entities)} entities/s)`, yes(v.ratioOk)],
    [`p99, 100 per request (single read's selection), ${BATCH_TARGET_CONNECTIONS} connections`, `${fix(v.p99Ms)} ms`, yes(v.p99Ok)],
  ];
  const two = runOf('two');
  if (two !== undefined) {
    const w = batchVerdict(d.single, { rps: two.load.rps, p99: two.load.p99, entities: two.entities });
    rows.push(
      [`for reference, not judged: the same with the multi-read's selection (2 records per entity)`, `${fix(w.ratio)}× (${int(two.load.rps * two.entities)} entities/s)`, '—'],
      [`for reference, not judged: its p99`, `${fix(w.p99Ms)} ms`, '—'],
    );
  }
  return [
    `Targets (issue item 4): 100 entities per request reach at least ${BATCH_RATIO}× the entities/s of the single-category read ` +
      `(${int(d.single.rps)} req/s at ${d.settings.connections} connections above), with p99 at most ${BATCH_P99_MS} ms at ` +
      `${BATCH_TARGET_CONNECTIONS} connections. Judged like for like: each entity of the batch selects what the single read returns ` +
      `(\`d0_unauth_features:*\`, one record of any entity: ${int(run.load.bytesPerResponse / run.entities)} response bytes per entity); ` +
      'the multi-read\'s selection (two records per entity' +
      (two === undefined ? '' : `, ${int(two.load.bytesPerResponse / two.entities)} bytes`) +
      ') is shown beside it, not judged.',
    '',
    table(['Criterion', 'Measured', 'Met'], rows),
  ].join('\n');
}

function loadgenText(s: BenchSettings): string {
  return s.loadgen === 'wrk'
    ? `wrk (\`/usr/bin/wrk\`, its own process, ${s.wrkThreads} thread${s.wrkThreads === 1 ? '' : 's'}; a Lua \`request()\` builds each request from the same templates as the autocannon scenarios)`
    : 'autocannon (programmatic API) in the harness process';
}

export function renderReport(d: ReportData): string {
  const s = d.settings;
  const m = d.machine;
  const results = [d.bareGet, d.single, d.multi, d.barePost, d.write];
  const conditions = [...results, ...d.pacedReads.flatMap((p) => [p.bare, p.service]), ...d.batch.map((b) => b.load), ...(d.events.off === undefined ? [] : [d.events.off]), ...(d.events.on === undefined ? [] : [d.events.on])];
  const out: string[] = [];
  out.push(
    '# Performance',
    '',
    '_Generated by `npm run bench` (bench/run.ts); every run overwrites this file. Numbers are from one run on the machine below._',
    '',
    '## How it is measured',
    '',
    `- The service runs as its own process, as in production: ${d.serviceOrigin}, with \`STORE=sqlite\`, ` +
      '`LOG_LEVEL=info` (the production default), the default `SQLITE_SYNCHRONOUS=full` (every commit fsynced), no `KAFKA_BROKERS` ' +
      '(events off) unless stated.',
    '- The baseline is a bare `node:http` server in its own process (bench/bare-server.ts) that answers every GET and POST with ' +
      `the same ${int(d.responseBytes)}-byte JSON document the service returns for a single-category read (serialized per request; POST ` +
      'bodies are read and parsed). Reads are compared with bare GET, writes with bare POST.',
    `- Load: ${loadgenText(s)}, ${s.connections} connections, keys drawn at random over all seeded entities per request. ` +
      'Scenarios that are compared run as a group: a warm-up of each ' +
      `(${s.warmup} s, discarded), then ${s.rounds} rounds in which each runs for ${fix(s.duration / s.rounds, 1)} s, so each gets ${s.duration} s ` +
      'measured, spread over the same stretch of time as the others (groups: reads = bare GET, single, multi; writes = bare POST, ' +
      'write; events = write events off, write events on). This VM\'s throughput drifts by ±20 % from one 6 s run to the next even ' +
      'when it is otherwise idle; interleaving keeps that drift out of the ratios. The load generator shares the ' +
      `${m.cores} cores with the process under test, so absolute numbers include that competition; its own CPU is in *Run conditions* ` +
      '(*Load generator CPU*, from its /proc/<pid>/stat; autocannon\'s is the harness process it runs in). Ratios compare like with like: ' +
      'the bare server is driven by the same generator in the same run. A ratio is judged on the group\'s totals; *Targets* shows ' +
      'beside it the lowest, median and highest of its per-round ratios (round i of each scenario ran in the same stretch of time), ' +
      'since a ratio near its line moves by a few hundredths between runs of the same build.',
    `- Data: ${int(d.seed.records)} records seeded straight through \`SqliteStore\` into a fresh file in ${int(d.seed.seconds)} s ` +
      `(${fix(d.seed.dbMiB, 0)} MiB database): ${int(d.seed.entities)} \`bright_uid\` entities with \`d0_unauth_features\` ` +
      `(11 features: ints, floats, strings, a boolean, a null, a 6-int array), the first ${int(d.seed.dual)} of them also with ` +
      '`ncr_unauth_features` (10 features).',
    '- Scenarios: single-category read `GET /api/v1/get/item/{id}/d0_unauth_features` over all entities; multi-category read ' +
      '`POST /api/v1/get/items` with `d0_unauth_features:*`, `ncr_unauth_features:credit_score`, `ncr_unauth_features:ncr_score` over ' +
      `the two-category entities; write \`POST /api/v1/items\` (${int(d.writeBodyBytes)}-byte bodies, ~10 features, a \`compute_id\`), ` +
      'half to existing and half to new keys, both categories.',
    '- Latency percentiles come from a 10 µs-resolution histogram of every measured response. Every response status is ' +
      'checked; a run with any non-2xx, error or timeout says so in *Status*. req/s counts 2xx responses only.',
    '- *Target CPU µs/req*: CPU time (user + system, all threads, from `/proc/<pid>/stat`) of the process under test during the ' +
      'measured run divided by the responses; *Target CPU* is the same as a share of one core (a 2-core machine has 200 %).',
    '',
    '## Machine',
    '',
    table(
      ['', ''],
      [
        ['CPU', `${m.cpu}, ${m.cores} cores`],
        ['RAM', `${fix(m.ramGiB, 1)} GiB`],
        ['OS', `${m.os}, Linux ${m.kernel}`],
        ['Node', m.node],
        ['Database filesystem', m.filesystem],
        ['Load average at start', m.loadAvg],
        ['Commit', m.commit],
        ['Date', d.startedAt.toISOString()],
        ['Whole bench run', `${fix(d.totalSeconds, 0)} s (build ${fix(d.buildSeconds, 0)} s, seeding ${fix(d.seed.seconds, 0)} s)`],
      ],
    ),
    '',
    '## Results: SQLite backend, events off',
    '',
    resultsTable(d),
    '',
    '### Run conditions',
    '',
    conditionsTable(conditions, Object.keys(d.single.helperCpuPct)),
    '',
    '*Other processes* is machine CPU used by anything but the process under test, the harness and the listed helpers (the bench\'s ' +
      'own Kafka broker, idle here) during the measured run: other users of this machine. A high value means the run was disturbed; ' +
      `before each scenario the bench waits (bounded) until it is below ${d.settings.quietThresholdPct} % of a core ` +
      '(*just before*).',
    '',
    '## Read latency at a steady rate (SQLite, events off)',
    '',
    'The reads above run as a closed loop at saturation: every connection sends its next request as soon as the last one is ' +
      'answered, so the service is always busy and a request\'s latency is mostly the queue in front of it (mean latency = ' +
      'connections ÷ req/s, Little\'s law; the bare server\'s own p99 is in the table above). Here each connection pauses after ' +
      'each response, a random time (exponentially distributed, with the mean in the table, so the connections do not fall into ' +
      'step and send in bursts), so the load is a steady rate below what either server can serve, as a prediction service calls it, and ' +
      'latency is what one request costs plus the occasional pause of the process (garbage collection, the scheduler). ' +
      'The bare server and the service run as one group, interleaved, 3 rounds of 2 s each after a 1 s warm-up.',
    '',
    pacedPart(d),
    '',
    '## Batch read (SQLite, events off)',
    '',
    '`POST /api/v1/get/items/batch` for 1, 10 and 100 random entities per request, each entity selecting what the single read ' +
      'returns (`["d0_unauth_features:*"]` of any entity: one record each, the like-for-like comparison with the single-category ' +
      `read, on which the targets below are judged), at ${d.settings.connections} and at ${BATCH_TARGET_CONNECTIONS} connections; ` +
      `and, for reference, 100 entities at ${BATCH_TARGET_CONNECTIONS} connections with the multi-read's selection ` +
      '(`d0_unauth_features:*` and two `ncr_unauth_features` features of two-category entities: two records each). ' +
      'Run as one group, interleaved like the others, each measured at most 6 s in 3 rounds to keep the run short.',
    '',
    batchPart(d),
    '',
    batchTargets(d),
    '',
    '## Memory',
    '',
    table(
      ['Process', 'RSS after its runs (MiB)', 'Peak RSS, VmHWM (MiB)'],
      d.memory.map((x) => [x.process, fix(x.memory?.rssMiB ?? NaN, 0), fix(x.memory?.hwmMiB ?? NaN, 0)]),
      [false, true, true],
    ),
    '',
    '## Events on vs off (write scenario)',
    '',
    eventsPart(d),
    '',
    'skipped' in d.dynamo
      ? '## DynamoDB backend (dynalite emulator)'
      : `## DynamoDB backend (dynalite emulator, ${d.dynamo.connections} connections, ${d.dynamo.warmupSeconds} s warm-up + ${d.dynamo.durationSeconds} s)`,
    '',
    ...('skipped' in d.dynamo
      ? []
      : [
          'dynalite runs as its own process; the service reaches it through a counting proxy in the harness (which also counts ' +
            `DynamoDB requests by \`X-Amz-Target\`). ${int(d.settings.dynamoSeedRecords)} records are seeded ` +
            'through the API first. *Service CPU* is the service process alone (the emulator is another process, shown for scale). The ' +
            'emulator, the proxy hop and the service share the 2 cores with the load generator, so req/s says little about DynamoDB in ' +
            "AWS; the service's CPU per request and the requests per call carry over.",
          '',
        ]),
    dynamoPart(d),
    '',
  );
  for (const p of d.profiles) out.push(`## Where the service spends CPU: ${p.title}`, '', profilePart(p.result, p.scenario, p.threads), '');
  out.push('## Targets', '', targetsTable(d), '');
  if (d.notes.length > 0) out.push('## Notes from this run', '', ...d.notes.map((n) => `- ${n.split('\n').join('\n  ')}`), '');
  return out.join('\n');
}
