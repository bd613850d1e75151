import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, serveProcess, type ServedProcess } from './support/cli-process.js';
import { accepts, createTopic, deleteTopic, kafkaBrokers } from './support/kafka-broker.js';
import { collect, isRecord, type Collector } from './support/kafka-consumer.js';
import { eventually, getJson, pool, tempDir, uniqueTopic, write } from './support/kafka-service.js';

/**
 * `WORKERS=2 feature-store serve` on one SQLite file with events on: two processes behind one
 * port (node:cluster) writing the same WAL file concurrently, each with its own group commit and
 * relay. Every acknowledged write is readable afterwards through either worker and its event is
 * consumed (at least once); only one worker sweeps; SIGTERM to the primary stops them all.
 */
describe('WORKERS=2 on SQLite with events on', { timeout: 300_000 }, () => {
  const dir = tempDir('feature-store-workers-');
  const topic = uniqueTopic('workers');
  let brokers: string;
  let served: ServedProcess;
  let consumed: Collector;
  let baseUrl: string;

  const lines = (): Record<string, unknown>[] =>
    served
      .logs()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  before(async () => {
    brokers = await kafkaBrokers();
    await createTopic(brokers, topic);
    consumed = await collect(brokers, topic);
    served = await serveProcess([...CLI, 'serve'], {
      WORKERS: '2',
      STORE: 'sqlite',
      SQLITE_PATH: join(dir.path, 'features.db'),
      KAFKA_BROKERS: brokers,
      TOPIC_NAME: topic,
      OUTBOX_POLL_MS: '50',
      // Per-request lines (debug) carry the worker: the test checks both took writes.
      LOG_LEVEL: 'debug',
      CATEGORY_TTL: 'ncr_unauth_features=1s',
      TTL_SWEEP_INTERVAL_MS: '200',
    });
    baseUrl = `http://127.0.0.1:${served.port}`;
    await eventually(() => served.logs().includes('"msg":"all workers listening"'), 120_000, 'both workers listening');
  });
  after(async () => {
    if (served !== undefined && served.child.exitCode === null) served.child.kill('SIGKILL');
    await consumed?.stop();
    if (brokers !== undefined) await deleteTopic(brokers, topic);
    dir.remove();
  });

  test('concurrent writes through both workers: every acknowledged write readable, its event consumed', async () => {
    const writes = 300;
    // 24 connections at once; the primary hands connections to the workers in turn.
    const results = await pool(writes, 24, async (i) => {
      const res = await write(baseUrl, { entityValue: `w-${i}`, features: { n: i, half: i % 2 === 0 } });
      return res.status;
    });
    const acknowledged = results.flatMap((status, i) => (status === 200 ? [i] : []));
    assert.equal(acknowledged.length, writes, `statuses: ${JSON.stringify(results.filter((s) => s !== 200))}`);

    const byWorker = new Map<unknown, number>();
    for (const l of lines()) {
      if (l.msg === 'request completed' && typeof l.url === 'string' && l.url.startsWith('/api/v1/items')) {
        byWorker.set(l.worker, (byWorker.get(l.worker) ?? 0) + 1);
      }
    }
    assert.deepEqual([...byWorker.keys()].sort(), [0, 1], `writes per worker: ${JSON.stringify([...byWorker])}`);

    for (const i of acknowledged) {
      const { status, json } = await getJson(`${baseUrl}/api/v1/get/item/w-${i}/d0_unauth_features`);
      assert.equal(status, 200, `w-${i}`);
      assert.ok(isRecord(json) && JSON.stringify(json).includes(`"n":${i}`), `w-${i}: ${JSON.stringify(json)}`);
    }

    const keys = new Set(acknowledged.map((i) => `bright_uid:w-${i}`));
    const seen = (): Set<string> => new Set(consumed.messages.flatMap((m) => (m.key !== null && keys.has(m.key) ? [m.key] : [])));
    await consumed.waitFor(() => seen().size === keys.size, 90_000, 'an event for every acknowledged write');
    assert.equal(seen().size, writes);
    for (const m of consumed.messages) {
      if (m.key !== null && keys.has(m.key)) assert.ok(isRecord(m.value) && m.value.event_type === 'feature_available', m.raw);
    }
  });

  test('expired records are swept by one worker only', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await write(baseUrl, { entityValue: `ttl-${i}`, category: 'ncr_unauth_features', features: { x: i } });
      assert.equal(res.status, 200, res.body);
    }
    const sweeps = (): Record<string, unknown>[] => lines().filter((l) => l.msg === 'expired records removed');
    await eventually(() => sweeps().reduce((n, l) => n + Number(l.removed), 0) >= 20, 30_000, 'the 20 expired records swept');
    assert.deepEqual([...new Set(sweeps().map((l) => l.worker))], [0]);
  });

  test('SIGTERM to the primary shuts every worker down cleanly', async () => {
    const pids = lines().find((l) => l.msg === 'all workers listening')?.pids;
    assert.ok(Array.isArray(pids) && pids.length === 2, JSON.stringify(pids));
    served.child.kill('SIGTERM');
    assert.equal(await served.exited, 0, served.logs().slice(-3000));
    const logs = lines();
    assert.equal(logs.filter((l) => l.msg === 'shut down cleanly').length, 2);
    assert.ok(logs.some((l) => l.msg === 'all workers shut down cleanly'), `logs.some((l) => l.msg === 'all workers shut down cleanly')`);
    for (const pid of pids) assert.throws(() => process.kill(Number(pid), 0), `worker ${String(pid)} is gone`);
    assert.equal(await accepts(`127.0.0.1:${served.port}`), false, 'nothing listens any more');
  });
});
