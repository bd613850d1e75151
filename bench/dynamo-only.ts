import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runDynamo } from './dynamo.js';
import type { ProfileSummary } from './profile.js';
import { beginShutdown, killAllSync, stopAll } from './procs.js';
import { buildService } from './service.js';
import { loadSettings } from './settings.js';

/**
 * The DynamoDB scenarios alone (dynalite), for iterating on the backend's CPU per request:
 *
 *   node --import tsx bench/dynamo-only.ts [--only=single,write] [--profile] [--profile-write] [--per-call]
 *
 * `--only` takes label prefixes of bench/dynamo.ts's scenarios (`single`, `multi`, `write`,
 * `batch`); `--profile` / `--profile-write` add a `node --cpu-prof` run of the single-category
 * read / the write and print self time by package and the top functions; `--per-call` adds the
 * exact DynamoDB requests per API call. Duration, warm-up, connections and seed come from the
 * same BENCH_DYNAMO_* variables as `npm run bench`; BENCH_KEEP_TMP keeps the profiles and logs.
 * Prints to stdout; writes no report.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function log(line: string): void {
  process.stderr.write(`[bench:dynamo] ${line}\n`);
}

function printProfile(title: string, p: ProfileSummary | { reason: string } | undefined): void {
  if (p === undefined) return;
  console.log(`\n## ${title}`);
  if ('reason' in p) {
    console.log(`no profile: ${p.reason}`);
    return;
  }
  console.log(`busy ${(p.busyMs / 1000).toFixed(2)} s of ${p.windowSeconds.toFixed(1)} s`);
  for (const a of p.areas) console.log(`${a.pct.toFixed(1).padStart(6)} %  ${a.area}`);
  console.log('');
  for (const f of p.top) console.log(`${f.pct.toFixed(1).padStart(6)} %  ${f.name}  ${f.where}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      only: { type: 'string' },
      profile: { type: 'boolean' },
      'profile-write': { type: 'boolean' },
      'per-call': { type: 'boolean' },
    },
  });
  const settings = loadSettings(process.env, []);
  const tmp = mkdtempSync(join(tmpdir(), 'feature-store-bench-dynamo-'));
  try {
    log('npm run build …');
    const build = await buildService(ROOT);
    if (build.buildError !== undefined) log(`BUILD FAILED, running from source:\n${build.buildError}`);
    const section = await runDynamo({
      root: ROOT,
      tmpDir: tmp,
      command: build.command,
      records: settings.dynamoSeedRecords,
      connections: settings.dynamoConnections,
      warmupSeconds: settings.dynamoWarmup,
      durationSeconds: settings.dynamoDuration,
      profile: values.profile === true,
      profileWrite: values['profile-write'] === true,
      skipPerCall: values['per-call'] !== true,
      loadgen: settings.loadgen,
      log,
      ...(values.only === undefined ? {} : { only: values.only.split(',').map((x) => x.trim()) }),
    });
    if (!section.measured) {
      log(`NOT MEASURED: ${section.reason ?? ''}`);
      return 1;
    }
    for (const row of section.rows) {
      const r = row.load;
      console.log(
        `${r.label.padEnd(40)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  ${r.cpuUsPerRequest.toFixed(0).padStart(5)} µs CPU/req` +
          `  (errors ${r.errors}, non-2xx ${r.non2xx})`,
      );
    }
    for (const c of section.perCall) console.log(`${c.call}: ${c.perCall.toFixed(2)} DynamoDB requests per call ${JSON.stringify(c.byOp)}`);
    printProfile('single-category read, self time', section.profile);
    printProfile('write, self time', section.writeProfile);
    return 0;
  } finally {
    beginShutdown();
    await stopAll();
    if (settings.keepTmp) log(`keeping the temp dir ${tmp} (BENCH_KEEP_TMP)`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

process.on('exit', () => killAllSync());
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
