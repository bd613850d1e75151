import { spawn } from 'node:child_process';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import type { FeatureMap } from '../src/model.js';
import { createDynamoDbStore, createDynamoDbTables, type DynamoDbStore } from '../src/store/dynamodb/index.js';
import { DYNALITE_WRAPPER, tcpOpen } from './dynamo.js';
import { freePort } from './procs.js';
import { D0, entityValue, featurePool } from './seed.js';

/**
 * CPU per store call of the DynamoDB backend, in process, against dynalite in a child process:
 * `node --import tsx bench/dynamo-store-cpu.ts [variant …]`. Each variant is a set of
 * environment variables read when its store is created (e.g. `BASE=` and `X=1`); the variants'
 * runs are interleaved round by round, so that load from other processes on the machine hits
 * them alike, and the median round is reported. Only the service's DynamoDB path is measured
 * (no HTTP), which makes steps on that path visible in a few seconds.
 *
 * BENCH_STORE_OPS (2000 per run), BENCH_STORE_ROUNDS (5), BENCH_STORE_CONCURRENCY (10).
 */
const OPS = Number(process.env.BENCH_STORE_OPS ?? 2000);
const ROUNDS = Number(process.env.BENCH_STORE_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_STORE_CONCURRENCY ?? 10);
const ENTITIES = 1000;

async function cpuPerOp(ops: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ops) await op(next++);
    }),
  );
  const used = process.cpuUsage(start);
  return (used.user + used.system) / ops;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const variants = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['BASE='];
  const port = await freePort();
  const dynalite = spawn(process.execPath, ['-e', DYNALITE_WRAPPER, String(port)], { stdio: ['pipe', 'ignore', 'inherit'] });
  try {
    for (let i = 0; i < 100 && !(await tcpOpen(port)); i++) await new Promise((r) => setTimeout(r, 100));
    const env = {
      STORE: 'dynamodb',
      DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      VERSIONS_KEPT: '0',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    // The SDK reads its region and credentials from the process environment.
    Object.assign(process.env, env);
    delete process.env.KAFKA_BROKERS;
    const config = loadConfig(process.env);
    await createDynamoDbTables(config);
    const logger = createLogger('silent');
    const stores: { name: string; store: DynamoDbStore }[] = [];
    for (const v of variants) {
      const vars = v.split(',').map((kv) => kv.split('=') as [string, string]);
      for (const [k, val] of vars) process.env[k] = val;
      stores.push({ name: v, store: await createDynamoDbStore(config, logger) });
      for (const [k] of vars) delete process.env[k];
    }
    const pool = featurePool(50, 11);
    const entityType = Object.keys(config.entityTables)[0] ?? 'bright_uid';
    const write = (store: DynamoDbStore, i: number): Promise<unknown> => {
      const f = pool[i % pool.length];
      return store.writeRecord({
        key: { entityType, entityValue: entityValue(i % (ENTITIES * 2)), category: D0 },
        data: JSON.parse(f?.json ?? '{"x":1}') as FeatureMap,
        computeId: `bench-${i}`,
        now: new Date().toISOString(),
        historySize: config.lineage.computeHistorySize,
      });
    };
    const read = (store: DynamoDbStore, i: number): Promise<unknown> =>
      store.getRecords([{ entityType, entityValue: entityValue((i * 7919) % ENTITIES), category: D0 }]);
    const first = stores[0]?.store;
    if (first === undefined) return;
    await cpuPerOp(ENTITIES, (i) => write(first, i)); // seed
    const results = new Map<string, { read: number[]; write: number[] }>(stores.map((s) => [s.name, { read: [], write: [] }]));
    for (const s of stores) {
      await cpuPerOp(300, (i) => read(s.store, i)); // warm-up
      await cpuPerOp(300, (i) => write(s.store, i));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of stores) {
        const r = results.get(s.name);
        r?.read.push(await cpuPerOp(OPS, (i) => read(s.store, i + round * OPS)));
        r?.write.push(await cpuPerOp(OPS, (i) => write(s.store, i + round * OPS)));
      }
    }
    for (const [name, r] of results) {
      console.log(`${name.padEnd(40)} read ${median(r.read).toFixed(0).padStart(5)} µs  write ${median(r.write).toFixed(0).padStart(5)} µs  (rounds: read ${r.read.map((x) => x.toFixed(0)).join('/')}, write ${r.write.map((x) => x.toFixed(0)).join('/')})`);
    }
    for (const s of stores) await s.store.close();
  } finally {
    dynalite.kill('SIGTERM');
  }
}

await main();
