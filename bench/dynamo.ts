import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { runLoad, type LoadGenerator, type LoadResult, type NextRequest, type QuietState } from './load.js';
import { requestSources, type RequestSource } from './scenarios.js';
import { baseEnv, freePort, processMemory, runCommand, spawnChild, stopChild, waitUntil, type Child, type MemoryStatus } from './procs.js';
import { D0, dataSet, entityValue, featurePool, seedViaApi, writeBody } from './seed.js';
import { profileService, type ProfileSummary } from './profile.js';
import { startService, type RunningService, type ServiceCommand } from './service.js';

/**
 * The DynamoDB backend against dynalite (a DynamoDB-compatible server from npm) in its own
 * process. The service talks to dynalite through a counting proxy in the harness, which gives
 * DynamoDB requests per API call by operation (`X-Amz-Target`).
 */

/** Counts DynamoDB requests by operation and forwards them to the emulator. */
class CountingProxy {
  readonly #counts = new Map<string, number>();
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });
  #server: Server | undefined;

  async start(targetPort: number): Promise<number> {
    const server = createServer((req, res) => {
      const target = req.headers['x-amz-target'];
      const op = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : 'unknown';
      this.#counts.set(op, (this.#counts.get(op) ?? 0) + 1);
      const upstream = httpRequest(
        { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent: this.#agent },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    server.keepAliveTimeout = 60_000;
    this.#server = server;
    const port = await freePort();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return port;
  }

  reset(): void {
    this.#counts.clear();
  }

  total(): number {
    let n = 0;
    for (const v of this.#counts.values()) n += v;
    return n;
  }

  /** Waits (bounded) until no request has passed for 500 ms: requests still in flight are done. */
  async quiesce(maxMs = 10_000): Promise<void> {
    const deadline = Date.now() + maxMs;
    let last = -1;
    while (Date.now() < deadline) {
      const now = this.total();
      if (now === last) return;
      last = now;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  async close(): Promise<void> {
    this.#agent.destroy();
    const server = this.#server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export const DYNALITE_WRAPPER = `
const port = Number(process.argv[1]);
const server = require('dynalite')({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(port, '127.0.0.1', () => console.log('dynalite listening on 127.0.0.1:' + port));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
`;

export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface DynamoRow {
  load: LoadResult;
  /** Emulator CPU per API call (for scale; not the service's cost). */
  emulatorUsPerRequest: number;
  /** Entities per request of a batch-read scenario. */
  entities?: number;
}

/** Entities per request of the batch-read scenarios (as on SQLite). */
export const DYNAMO_BATCH_SIZES = [1, 10, 100];

/** DynamoDB requests per API call, counted exactly over sequential calls (nothing in flight). */
export interface PerCall {
  call: string;
  calls: number;
  failed: number;
  perCall: number;
  byOp: Record<string, number>;
}

export interface DynamoSection {
  measured: boolean;
  reason?: string;
  tablesVia?: string;
  seed?: { records: number; ok: number; failed: number; ms: number; perCall: number; firstError?: string };
  rows: DynamoRow[];
  perCall: PerCall[];
  memory?: MemoryStatus;
  /** `node --cpu-prof` of a second service process on the single-category read (BENCH_PROFILE). */
  profile?: ProfileSummary | { reason: string };
  /** The same on the write scenario (`profileWrite`, bench/dynamo-only.ts). */
  writeProfile?: ProfileSummary | { reason: string };
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

export interface DynamoOptions {
  root: string;
  tmpDir: string;
  command: ServiceCommand;
  records: number;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  profile: boolean;
  /** Also profile the write scenario (a third service process). */
  profileWrite?: boolean;
  /** Only the load scenarios whose label starts with one of these (all when undefined). */
  only?: readonly string[];
  /** Skip the exact DynamoDB-requests-per-call counts. */
  skipPerCall?: boolean;
  log: (line: string) => void;
  settle?: () => Promise<QuietState>;
  loadgen?: LoadGenerator;
}

const EXACT_CALLS = 50;

/** Runs `calls` requests one after another and counts the DynamoDB requests they caused. */
async function countPerCall(
  proxy: CountingProxy,
  baseUrl: string,
  call: string,
  method: 'GET' | 'POST',
  next: () => NextRequest,
  calls = EXACT_CALLS,
): Promise<PerCall> {
  await proxy.quiesce();
  proxy.reset();
  let failed = 0;
  for (let i = 0; i < calls; i++) {
    const n = next();
    try {
      const res = await fetch(baseUrl + n.path, {
        method,
        ...(n.body === undefined ? {} : { body: n.body, headers: { 'content-type': 'application/json' } }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (res.status !== 200) failed++;
    } catch {
      failed++;
    }
  }
  const byOp = proxy.snapshot();
  const total = Object.values(byOp).reduce((a, b) => a + b, 0);
  return { call, calls, failed, perCall: total / calls, byOp };
}

/** Runs the DynamoDB section; never throws for a backend that is missing or broken. */
export async function runDynamo(o: DynamoOptions): Promise<DynamoSection> {
  const section: DynamoSection = {
    measured: false,
    rows: [],
    perCall: [],
    connections: o.connections,
    warmupSeconds: o.warmupSeconds,
    durationSeconds: o.durationSeconds,
  };
  const proxy = new CountingProxy();
  let dynalite: Child | undefined;
  let service: RunningService | undefined;
  try {
    const dynPort = await freePort();
    dynalite = spawnChild('dynalite', process.execPath, ['-e', DYNALITE_WRAPPER, String(dynPort)], {
      cwd: o.root,
      env: baseEnv({}),
      logPath: join(o.tmpDir, 'dynalite.log'),
      stdinPipe: true,
    });
    const dyn = dynalite;
    if (!(await waitUntil(async () => dyn.exitStatus() === undefined && (await tcpOpen(dynPort)), 20_000, 100))) {
      section.reason = `dynalite did not start (exit ${String(dyn.exitStatus())})`;
      return section;
    }
    const proxyPort = await proxy.start(dynPort);
    const env: Record<string, string> = {
      STORE: 'dynamodb',
      DYNAMODB_ENDPOINT: `http://127.0.0.1:${proxyPort}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_EC2_METADATA_DISABLED: 'true',
      // dynalite has no TransactWriteItems, which versions need (docs/decisions/2-versions.md);
      // the scenarios measure the record path as the old service's deployments run it.
      VERSIONS_KEPT: '0',
    };

    // Tables: the CLI if this build has it, else the service's opt-in creation at start.
    const cli = await runCommand(process.execPath, [...o.command.args, 'tables', 'create'], {
      cwd: o.root,
      env: baseEnv({ LOG_LEVEL: 'warn', ...env }),
      timeoutMs: 60_000,
    });
    if (cli.code === 0) {
      section.tablesVia = 'feature-store tables create';
      o.log(`  tables created with the CLI: ${cli.stdout.trim().split('\n').join(' | ')}`);
    } else {
      section.tablesVia = `DYNAMODB_CREATE_TABLES=true (the CLI's 'tables create' failed: exit ${cli.code}: ${
        (cli.stderr || cli.stdout).trim().split('\n')[0] ?? ''
      })`;
      env.DYNAMODB_CREATE_TABLES = 'true';
      o.log(`  'tables create' not usable (exit ${cli.code}); starting the service with DYNAMODB_CREATE_TABLES=true`);
    }

    const started = await startService('service-dynamodb', o.command, env, { root: o.root, logDir: o.tmpDir });
    if ('reason' in started) {
      section.reason = `the service did not start with STORE=dynamodb: ${started.reason}`;
      return section;
    }
    service = started.service;
    const url = service.url;

    const set = dataSet(o.records);
    proxy.reset();
    const seed = await seedViaApi(url, set, o.connections, 120_000);
    const seedCalls = proxy.snapshot();
    const seedRequests = Object.values(seedCalls).reduce((a, b) => a + b, 0);
    section.seed = {
      records: set.records,
      ok: seed.ok,
      failed: seed.failed,
      ms: seed.ms,
      perCall: seed.ok + seed.failed > 0 ? seedRequests / (seed.ok + seed.failed) : NaN,
      ...(seed.firstError === undefined ? {} : { firstError: seed.firstError }),
    };
    o.log(`  seeded ${seed.ok}/${set.records} records via the API in ${(seed.ms / 1000).toFixed(1)} s (${seed.failed} failed)`);
    if (seed.ok === 0) {
      section.reason = `seeding through the API failed: ${seed.firstError ?? 'no successful write'}`;
      return section;
    }

    const src = requestSources(set, { poolSize: 500, poolSeed: 11, computeId: () => 'bench-dynamo' });
    const scenarios: { label: string; source: RequestSource; entities?: number }[] = [
      { label: 'single-category read', source: src.single },
      { label: 'multi-category read (2 categories)', source: src.multi },
      { label: 'write', source: src.write },
      ...DYNAMO_BATCH_SIZES.map((n) => ({ label: `batch read, ${n} entit${n === 1 ? 'y' : 'ies'} per request`, source: src.batch(n), entities: n })),
    ];
    const only = o.only;
    for (const s of scenarios.filter((x) => only === undefined || only.some((p) => x.label.startsWith(p)))) {
      o.log(`  dynamodb ${s.label} …`);
      const load = await runLoad({
        label: s.label,
        target: 'service (dynamodb)',
        baseUrl: url,
        pid: service.child.pid,
        method: s.source.method,
        next: s.source.next,
        lua: s.source.lua,
        ...(o.loadgen === undefined ? {} : { loadgen: o.loadgen }),
        connections: o.connections,
        warmupSeconds: o.warmupSeconds,
        durationSeconds: o.durationSeconds,
        helpers: { dynalite: dyn.pid },
        ...(o.settle === undefined ? {} : { settle: o.settle }),
      });
      section.rows.push({
        load,
        emulatorUsPerRequest: load.responses > 0 ? ((load.helperCpuSeconds.dynalite ?? NaN) / load.responses) * 1e6 : NaN,
        ...(s.entities === undefined ? {} : { entities: s.entities }),
      });
    }

    // Exact request counts per API call, by kind of call.
    const single = src.single;
    let fresh = 0;
    const f0 = featurePool(1, 11)[0] ?? { category: D0, json: '{"x":1}' };
    const exact: [string, 'GET' | 'POST', () => NextRequest][] = [
      ['single-category read', 'GET', src.single.next],
      ['multi-category read (2 categories)', 'POST', src.multi.next],
      [
        'write, existing record',
        'POST',
        () => ({ path: '/api/v1/items', body: writeBody(entityValue(Math.floor(Math.random() * set.entities)), D0, f0.json, 'bench-exact') }),
      ],
      ['batch read, 100 entities × 2 categories', 'POST', src.batch(100).next],
      [
        'write, new record',
        'POST',
        () => ({ path: '/api/v1/items', body: writeBody(`bench-new-${Date.now()}-${fresh++}`, D0, f0.json, 'bench-exact') }),
      ],
    ];
    if (o.skipPerCall !== true) for (const [call, method, next] of exact) section.perCall.push(await countPerCall(proxy, url, call, method, next));
    section.memory = processMemory(service.child.pid);
    section.measured = true;

    if (o.profile || o.profileWrite === true) {
      await stopChild(service.child);
      service = undefined;
      const profiled = async (label: string, source: RequestSource): Promise<ProfileSummary | { reason: string }> => {
        o.log(`  profiling a service process (node --cpu-prof) on the DynamoDB ${label} …`);
        const p = await profileService({
          name: `service-dynamodb-profiled-${label.replace(/\W+/g, '-')}`,
          command: o.command,
          env,
          root: o.root,
          tmpDir: o.tmpDir,
          load: (baseUrl, pid) => ({
            label: `${label} (profiled)`,
            target: 'service (dynamodb, --cpu-prof)',
            baseUrl,
            pid,
            method: source.method,
            next: source.next,
            lua: source.lua,
            ...(o.loadgen === undefined ? {} : { loadgen: o.loadgen }),
            connections: o.connections,
            warmupSeconds: o.warmupSeconds,
            durationSeconds: o.durationSeconds,
          }),
        });
        return 'summary' in p ? p.summary : p;
      };
      if (o.profile) section.profile = await profiled('single-category read', single);
      if (o.profileWrite === true) section.writeProfile = await profiled('write', src.write);
    }
    return section;
  } catch (err) {
    section.reason = `DynamoDB section failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    return section;
  } finally {
    if (service !== undefined) await stopChild(service.child);
    await proxy.close();
    if (dynalite !== undefined) await stopChild(dynalite);
  }
}
