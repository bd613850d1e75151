import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { backfillLineageIndex } from '../../src/store/dynamodb/index.js';
import { rateLimiter } from '../../src/store/dynamodb/backfill.js';
import type { FeatureStore } from '../../src/store/ports.js';
import { openStore, TEST_ENV } from '../support/backend.js';
import { startDynamoDbInstance, type DynamoDbInstance, type DynamoDbServerKind } from '../support/dynamodb-backend.js';

/**
 * `feature-store lineage backfill`: items the old service wrote get the by-compute-id index
 * attributes, on both emulators; resumable from its state file; throttled.
 */
const CAT = 'd0_unauth_features';
const dir = mkdtempSync(join(tmpdir(), 'feature-store-backfill-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

test('the throttle spaces calls evenly, also for concurrent callers', async () => {
  let t = 1_000;
  const waits: number[] = [];
  const limit = rateLimiter(4, () => t, async (ms) => {
    waits.push(ms);
  });
  await Promise.all([limit(), limit(), limit()]); // at t: slots t, t+250, t+500
  t += 100;
  await limit(); // next free slot t0+750, 650 ms from now
  t += 2_000;
  await limit(); // idle long enough: no wait
  assert.deepEqual(waits, [250, 500, 650]);
});

test('`lineage backfill` with SQLite has nothing to do; a bad option is a usage error', () => {
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'lineage', 'backfill', ...args], {
      env: { ...process.env, KAFKA_BROKERS: '', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
  const sqlite = run([], { STORE: 'sqlite', SQLITE_PATH: join(dir, 'cli.db') });
  assert.equal(sqlite.status, 0, sqlite.stderr);
  assert.match(sqlite.stdout, /STORE=sqlite: .*nothing to do/);
  const bad = run(['--segments', '0'], { STORE: 'dynamodb', AWS_REGION: 'us-east-1' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--segments must be an integer from 1 to 1000, got '0'/);
});

for (const server of ['moto', 'dynalite'] as DynamoDbServerKind[]) {
  describe(`lineage backfill: ${server}`, () => {
    let instance: DynamoDbInstance;
    let store: FeatureStore;

    before(async () => {
      instance = await startDynamoDbInstance({ server });
      store = await openStore(instance);
    });
    after(async () => {
      await store.close();
      await instance.teardown();
    });

    const config = () => loadConfig({ ...TEST_ENV, ...instance.env });
    const find = async (computeId: string, entityType = 'bright_uid') =>
      (await store.findByComputeId({ entityType, computeId, limit: 1000 })).records.map((r) => r.entityValue).sort();

    async function legacyItems(job: string, count: number, entityType = 'bright_uid'): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const id = `old-${server}-${process.pid}-${++n}`;
        await instance.insertLegacy({
          entityType,
          entityValue: id,
          category: CAT,
          data: { i },
          createdAt: '2025-10-16T10:00:00.123456+00:00',
          updatedAt: '2025-10-16T10:00:00.123456+00:00',
          computeId: i % 5 === 4 ? null : job,
        });
        if (i % 5 !== 4) ids.push(id);
      }
      return ids.sort();
    }

    test('indexes old items with a compute_id, leaves the rest, and a second run finds nothing to do', async () => {
      const job = `legacy-job-${server}-${++n}`;
      const ids = await legacyItems(job, 20);
      const accounts = await legacyItems(job, 3, 'account_pid');
      assert.deepEqual(await find(job), [], 'not in the index before the backfill');
      const statePath = join(dir, `${server}-all.json`);
      const [users, accts] = await backfillLineageIndex(config(), { segments: 3, maxWritesPerSecond: 1000, statePath, pageSize: 4 });
      assert.equal(users?.updated, ids.length);
      assert.equal(users?.skipped, 20 - ids.length, 'items without a compute_id');
      assert.equal(users?.segmentsDone, 3);
      assert.equal(accts?.updated, accounts.length);
      assert.deepEqual(await find(job), ids);
      assert.deepEqual(await find(job, 'account_pid'), accounts);
      const [page] = (await store.findByComputeId({ entityType: 'bright_uid', computeId: job, limit: 1 })).records;
      assert.equal(page?.updatedAt, '2025-10-16T10:00:00.123Z', "the item's own updated_at, canonical");
      const again = await backfillLineageIndex(config(), { segments: 3, maxWritesPerSecond: 1000, statePath: join(dir, `${server}-again.json`) });
      assert.equal(again[0]?.updated, 0);
    });

    test('stopped part-way, a run with the same state file goes on where it stopped', async () => {
      const job = `resumed-job-${server}-${++n}`;
      const ids = await legacyItems(job, 15);
      const statePath = join(dir, `${server}-resume.json`);
      const first = await backfillLineageIndex(config(), { segments: 2, maxWritesPerSecond: 1000, statePath, pageSize: 2, maxPages: 1 });
      const state = JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, { positions: unknown[] }>;
      assert.ok(Object.values(state).some((t) => t.positions.some((p) => p !== 'done' && p !== null)), 'positions saved');
      await assert.rejects(
        backfillLineageIndex(config(), { segments: 3, maxWritesPerSecond: 1000, statePath }),
        /holds a backfill of .* with 2 segments; continue it with --segments 2/,
      );
      const second = await backfillLineageIndex(config(), { segments: 2, maxWritesPerSecond: 1000, statePath, pageSize: 2 });
      assert.deepEqual(await find(job), ids);
      assert.equal((first[0]?.scanned ?? 0) + (second[0]?.scanned ?? 0) >= ids.length, true);
      assert.ok((second[0]?.updated ?? 0) > 0, 'the second run did part of the work');
    });

    test('a record rewritten by the service is left as that write indexed it', async () => {
      const job = `rewritten-${server}-${++n}`;
      const [id] = await legacyItems(job, 1);
      await store.writeRecord({ key: { entityType: 'bright_uid', entityValue: id as string, category: CAT }, data: { new: 1 }, computeId: 'newer-job', now: '2025-10-17T10:00:00.000Z' });
      await backfillLineageIndex(config(), { segments: 1, maxWritesPerSecond: 1000, statePath: join(dir, `${server}-rewritten.json`) });
      assert.deepEqual(await find(job), []);
      assert.deepEqual(await find('newer-job'), [id]);
    });

    test('`feature-store lineage backfill` prints a summary per table', async () => {
      const job = `cli-${server}-${++n}`;
      const ids = await legacyItems(job, 2);
      const statePath = join(dir, `${server}-cli.json`);
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'lineage', 'backfill', '--segments', '2', '--state', statePath], {
        env: { ...process.env, KAFKA_BROKERS: '', ...instance.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 0, stderr);
      assert.match(stdout, new RegExp(`^${instance.tables.bright_uid}: \\d+ scanned, ${ids.length} indexed, \\d+ skipped$`, 'm'));
      assert.match(stderr, /2\/2 segments done/);
      assert.deepEqual(await find(job), ids);
    });
  });
}
