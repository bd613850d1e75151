import type { LoadResult } from './load.js';
import type { MachineInfo } from './report.js';
import { fix, int, pct, status, table } from './report.js';
import type { ScaleSection } from './scale.js';
import { RSS_LIMIT_MB, SCALE_TOLERANCE } from './verdicts.js';
import type { WorkersSection } from './workers.js';

/**
 * The report sections of the optional runs (`--scale`, `--workers`). Each is spliced into
 * docs/performance.md between its own markers (verdicts.ts `spliceSection`), so a run of one
 * mode alone updates its section and leaves the rest of the report as it was.
 */

const mib = (bytes: number): string => `${fix(bytes / 1024 ** 2, 0)} MiB`;
const yes = (ok: boolean): string => (ok ? 'yes' : '**no**');
/** `10M`, `100k`, `2.5M`: record counts as the flags write them. */
export function countLabel(n: number): string {
  if (n >= 1e6) return `${Number((n / 1e6).toFixed(2))}M`;
  if (n >= 1e3) return `${Number((n / 1e3).toFixed(2))}k`;
  return String(n);
}

function runLine(machine: MachineInfo, startedAt: Date, seconds: number): string {
  return `_Run ${startedAt.toISOString()} on commit ${machine.commit}, ${machine.cpu} (${machine.cores} cores), load average at start ${machine.loadAvg}; this part took ${fix(seconds, 0)} s._`;
}

export function scaleReport(s: ScaleSection, machine: MachineInfo, startedAt: Date, seconds: number): string {
  const big = countLabel(s.large.set.records);
  const small = countLabel(s.small.set.records);
  const out = [
    `## Scale: ${big} records (SQLite, \`npm run bench -- --scale=${big.toLowerCase()}\`)`,
    '',
    runLine(machine, startedAt, seconds),
    '',
    `Two services run at once, one on a ${small}-record file and one on the ${big}-record file, and the single-category read ` +
      '(`GET /api/v1/get/item/{id}/d0_unauth_features`, keys at random over all entities of each file) drives them in ' +
      `${s.rounds} interleaved rounds (${s.warmupSeconds} s warm-up, ` +
      `${s.durationSeconds} s measured each) with ${s.loadgen}, at each connection count. The large file is seeded once ` +
      'straight through `SqliteStore` in 5,000-write transactions and kept under `BENCH_SCALE_CACHE` (keyed by record count, ' +
      'schema version and data version); the service opens that file.',
    '',
    table(
      ['', small, big],
      [
        ['Records (entities with d0, with d0 and ncr)', `${int(s.small.set.records)} (${int(s.small.set.entities)}, ${int(s.small.set.dual)})`, `${int(s.large.set.records)} (${int(s.large.set.entities)}, ${int(s.large.set.dual)})`],
        [
          'Seeding time',
          `${fix(s.small.seedSeconds, 1)} s`,
          `${fix(s.large.seedSeconds, 0)} s (${int(s.large.set.records / s.large.seedSeconds)} records/s` +
            `${s.large.seedLoadAvg === undefined ? '' : `; load average ${s.large.seedLoadAvg} at its end`}` +
            `${s.large.cached ? `; seeded ${s.large.seededAt}, reused from the cache in this run` : ''})`,
        ],
        ['File size', mib(s.small.fileBytes), mib(s.large.fileBytes)],
        ['Bytes per record', int(s.small.fileBytes / s.small.set.records), int(s.large.fileBytes / s.large.set.records)],
      ],
      [false, true, true],
    ),
    '',
  ];
  if (s.residentPct !== undefined || s.prewarm !== undefined) {
    const before = s.residentPct === undefined ? 'The share of the large file in the OS page cache was unknown (no fincore)' : `The large file was ${fix(s.residentPct, 0)} % in the OS page cache (fincore)`;
    const warm =
      s.prewarm === undefined
        ? ''
        : `; the bench read it once (${fix(s.prewarm.seconds, 1)} s) so that the reads measure the store and not the disk` +
          (s.prewarm.residentPct === undefined ? '' : `, after which ${fix(s.prewarm.residentPct, 0)} % was cached`);
    const end = s.residentAfterPct === undefined ? '' : ` After the HTTP reads ${fix(s.residentAfterPct, 0)} % of it was in the page cache.`;
    out.push(`${before} before the run${warm}.${end} The machine has ${fix(machine.ramGiB, 0)} GiB of RAM.`, '');
  }
  out.push(
    table(
      ['Conns', 'Records', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'Service CPU', `req/s ${big}/${small}`, `p99 ${big}/${small}`, 'Status'],
      s.rows.flatMap((r) =>
        [r.small, r.large].map((l, i) => [
          String(r.connections),
          i === 0 ? small : big,
          int(l.rps),
          fix(l.p50),
          fix(l.p99),
          fix(l.cpuUsPerRequest, 0),
          pct(l.cpuPct),
          i === 0 ? '' : `${fix(r.verdict.rpsRatio)}×`,
          i === 0 ? '' : `${fix(r.verdict.p99Ratio)}×`,
          status(l),
        ]),
      ),
      [true, false, true, true, true, true, true, true, true, false],
    ),
    '',
    table(
      ['Service', 'RSS after the reads (MiB)', 'Peak RSS, VmHWM (MiB)'],
      [
        [`${small} records`, fix(s.memory.small?.rssMiB ?? NaN, 0), fix(s.memory.small?.hwmMiB ?? NaN, 0)],
        [`${big} records`, fix(s.memory.large?.rssMiB ?? NaN, 0), fix(s.memory.large?.hwmMiB ?? NaN, 0)],
      ],
      [false, true, true],
    ),
    '',
    `Pass criteria (issue item 5): at ${big}, single-read req/s at least ${100 - SCALE_TOLERANCE * 100} % and p99 at most ` +
      `${100 + SCALE_TOLERANCE * 100} % of ${small}; peak RSS at most ${RSS_LIMIT_MB} MB.`,
    '',
    table(
      ['Criterion', 'Measured', 'Met'],
      [
        ...s.rows.flatMap((r) => [
          [`req/s ${big}/${small}, ${r.connections} connections`, `${fix(r.verdict.rpsRatio)}×`, yes(r.verdict.rpsOk)],
          [`p99 ${big}/${small}, ${r.connections} connections`, `${fix(r.verdict.p99Ratio)}×`, yes(r.verdict.p99Ok)],
        ]),
        [`Peak RSS, ${big} service`, s.rss === undefined ? 'n/a' : `${fix(s.rss.mb, 0)} MB`, s.rss === undefined ? 'not measured' : yes(s.rss.ok)],
      ],
    ),
    '',
    '### The point read without HTTP',
    '',
    'The lookup the single read does (`SELECT … WHERE entity_value = ? AND category = ?`), 200,000 random keys on a read-only ' +
      'connection in the harness, under the store\'s pragmas and alternatives: a warming pass, then three passes, of which the ' +
      'one with the least CPU time per lookup is shown (CPU time of the harness process, with the wall time of that pass beside ' +
      'it: other tenants of the machine stretch wall time at random). The HTTP request around it ' +
      'costs far more than the lookup, which is why the service\'s ratio stays near 1 unless the lookup changes by tens of µs. ' +
      '*RSS growth* is the harness\'s RSS over the passes on the large file: pages SQLite maps with `mmap_size` count towards the ' +
      "process's RSS, pages it reads into its own cache only up to `cache_size`, and pages it reads with `pread` from the OS " +
      'page cache not at all. *preads/lookup* counts the read system calls per lookup in that pass (pages the connection\'s ' +
      'cache missed); it does not scatter with the machine\'s load as CPU time does. Why the page size stays 4 KiB and the ' +
      'cache 32 MiB: docs/decisions/7-sqlite-at-scale.md.',
    '',
    table(
      ['SQLite settings', `CPU µs/read, ${small}`, `CPU µs/read, ${big}`, `${big}/${small}`, `wall µs/read, ${small} / ${big}`, `preads/lookup, ${small} / ${big}`, `RSS growth, ${big} (MiB)`],
      s.pointReads.map(({ small: a, large: b }) => [
        a.config,
        fix(a.usPerRead),
        fix(b.usPerRead),
        `${fix(b.usPerRead / a.usPerRead)}×`,
        `${fix(a.wallUsPerRead)} / ${fix(b.wallUsPerRead)}`,
        `${fix(a.readsPerLookup ?? NaN)} / ${fix(b.readsPerLookup ?? NaN)}`,
        fix(b.rssGrowthMiB, 0),
      ]),
      [false, true, true, true, true, true, true],
    ),
  );
  return out.join('\n');
}

function workersCell(r: LoadResult, base: LoadResult | undefined): string[] {
  return [
    int(r.rps),
    base === undefined ? '1.00×' : `${fix(base.rps > 0 ? r.rps / base.rps : NaN)}×`,
    fix(r.p50),
    fix(r.p99),
    fix(r.cpuUsPerRequest, 0),
    pct(r.cpuPct),
    pct(r.loadgenCpuPct),
    pct(r.machineBusyPct),
    status(r),
  ];
}

export function workersReport(w: WorkersSection, machine: MachineInfo, startedAt: Date, seconds: number): string {
  const rows = w.rows.flatMap((row) => row.results.map((r, i) => [row.scenario, String(w.workers[i] ?? '?'), ...workersCell(r, i === 0 ? undefined : row.results[0])]));
  const out = [
    `## WORKERS: ${w.workers.join(' vs ')} service processes (SQLite, \`npm run bench -- --workers=${w.workers.join(',')}\`)`,
    '',
    runLine(machine, startedAt, seconds),
    '',
    `One service per \`WORKERS\` value, each on its own copy of the seeded file, all started before the runs; each scenario ` +
      `runs as a group over the settings in ${w.rounds} interleaved rounds (${w.warmupSeconds} s warm-up, ${w.durationSeconds} s ` +
      `measured each), ${w.connections} connections, ${w.loadgen} with ${w.wrkThreads} thread${w.wrkThreads === 1 ? '' : 's'}. ` +
      '*CPU µs/req* and *Service CPU* are the whole process tree: the primary (which only supervises and hands connections ' +
      'to the workers) and every worker, from /proc. The load generator runs on the same ' +
      `${machine.cores} cores: its CPU is what the service cannot have.`,
    '',
    table(
      ['Scenario', 'WORKERS', 'req/s', 'vs first', 'p50 ms', 'p99 ms', 'CPU µs/req (all processes)', 'Service CPU', 'Load generator CPU', 'Machine busy', 'Status'],
      rows,
      [false, true, true, true, true, true, true, true, true, true, false],
    ),
    '',
    '### Writes across processes',
    '',
    `Per setting, ${w.windowSeconds} s more of the write scenario while \`perf stat\` counts each process's syscalls on the ` +
      'kernel tracepoints (no ptrace; the processes run at full speed). *Commits* are fsync/fdatasync calls: with ' +
      '`SQLITE_SYNCHRONOUS=full` in WAL mode SQLite syncs the WAL once per commit (a checkpoint adds a few). *Busy sleeps* are ' +
      'the sleeps of SQLite\'s busy handler while another process holds the write lock (`BEGIN IMMEDIATE`, 1, 2, 5, 10, … ms ' +
      'per sleep, up to the 5 s busy timeout, blocking that process\'s event loop meanwhile); the service itself never sleeps. ' +
      'A write that waits past the busy timeout fails with 503 and would show under *Status*.',
    '',
  ];
  const counted = w.writes.filter((x) => x.behaviour !== undefined);
  if (counted.length < w.writes.length) out.push('**perf stat was not usable here: no syscall counts.**', '');
  out.push(
    table(
      ['WORKERS', 'write req/s', 'p99 ms', 'Writes', 'Commits', 'Writes per commit', 'Busy sleeps', 'Busy sleeps / 1,000 writes', 'Per process (pid: commits / busy sleeps)', 'Status'],
      w.writes.map(({ workers, load, behaviour: b }) => [
        String(workers),
        int(load.rps),
        fix(load.p99),
        int(load.responses),
        b === undefined ? 'n/a' : int(b.commits),
        b === undefined ? 'n/a' : fix(b.writesPerCommit, 1),
        b === undefined ? 'n/a' : int(b.sleeps),
        b === undefined ? 'n/a' : fix(b.sleepsPer1000Writes, 1),
        b === undefined ? 'n/a' : b.perProcess.map((p, i) => `${workers > 1 && i === 0 ? 'primary ' : ''}${p.pid}: ${int(p.syncs)} / ${int(p.sleeps)}`).join('; '),
        status(load),
      ]),
      [true, true, true, true, true, true, true, true, false, false],
    ),
    '',
    table(
      ['WORKERS', 'RSS of all processes after the runs (MiB)', 'Peak RSS summed, VmHWM (MiB)'],
      w.memory.map((m) => [String(m.workers), fix(m.memory?.rssMiB ?? NaN, 0), fix(m.memory?.hwmMiB ?? NaN, 0)]),
      [true, true, true],
    ),
  );
  return out.join('\n');
}
