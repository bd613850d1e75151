import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startServer, type Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { EVENT_BACKENDS } from '../support/backends.js';
import { CLI, serveProcess } from '../support/cli-process.js';
import { createTopic, disposeStoppableBroker, stoppableBroker, type StoppableBroker } from '../support/kafka-broker.js';
import { eventServiceConfig, eventsHealth, eventually, getJson, pool, write } from '../support/kafka-service.js';

/**
 * Job statistics after a SIGKILL and after a broker outage: they catch up and are exact (each
 * write counted once, although the relay publishes at least once). These tests stop and start
 * a broker, only one they may stop (`stoppableBroker`: the runner's own, or a private one).
 */
interface Job {
  records_written: number;
  records_current: number;
  categories: Record<string, number>;
}

async function jobOf(url: string, computeId: string): Promise<{ status: number; job: Job }> {
  const { status, json } = await getJson(`${url}/api/v1/compute-jobs/${encodeURIComponent(computeId)}`);
  return { status, job: json as Job };
}

/** Waits until the outbox is drained, then requires the job's numbers exact (twice, a moment apart). */
async function assertExact(url: string, computeId: string, written: number, current: number): Promise<void> {
  await eventually(async () => (await eventsHealth(url)).events.pending === 0, 120_000, 'the outbox drained');
  await eventually(async () => (await jobOf(url, computeId)).job.records_written === written, 30_000, `${written} writes counted`);
  await eventually(async () => (await jobOf(url, computeId)).job.records_current === current, 30_000, `${current} current records`);
  await new Promise((r) => setTimeout(r, 1_500));
  const { status, job } = await jobOf(url, computeId);
  assert.equal(status, 200);
  assert.equal(job.records_written, written, 'no write counted twice');
  assert.equal(job.records_current, current);
}

describe('job statistics recover (own broker)', { timeout: 900_000 }, () => {
  const topic = `feature-store-test-jobs-${randomUUID().slice(0, 8)}`;
  let broker: StoppableBroker;

  before(async () => {
    broker = await stoppableBroker();
    await createTopic(broker.brokers, topic);
  });

  after(disposeStoppableBroker);

  for (const backend of EVENT_BACKENDS) {
    describe(backend.name, () => {
      let instance: BackendInstance;
      before(async () => {
        instance = await backend.setup();
      });
      after(async () => {
        await instance?.teardown();
      });
      // Fewer on moto, which serves one request at a time, and fewer at once.
      const count = backend.type === 'sqlite' ? 300 : 80;
      const concurrency = backend.type === 'sqlite' ? 10 : 4;

      test(`${count} writes of one job, SIGKILL while the relay works: after a restart each write is counted once`, async () => {
        const job = `crash-job-${randomUUID()}`;
        const run = randomUUID().slice(0, 8);
        // Half the records are written twice: rewrites count in records_written, not in records_current.
        const distinct = count / 2;
        const served = await serveProcess(CLI.concat('serve'), {
          ...instance.env,
          KAFKA_BROKERS: broker.brokers,
          TOPIC_NAME: topic,
          OUTBOX_POLL_MS: '20',
          OUTBOX_BATCH_SIZE: '25',
          OUTBOX_LEASE_MS: '2000',
          DYNAMODB_TIMEOUT_MS: '10000',
          // On a busy test machine the starting process lags; every write must be applied.
          MAX_EVENT_LOOP_DELAY_MS: '0',
        });
        try {
          const url = `http://127.0.0.1:${served.port}`;
          const results = await pool(count, concurrency, (i) => write(url, { entityValue: `${run}-${i % distinct}`, features: { i }, computeId: job }));
          assert.deepEqual(results.filter((r) => r.status !== 200).map((r) => r.body), []);
        } finally {
          served.child.kill('SIGKILL'); // right after the last acknowledgement, the relay mid-way
          assert.equal(await served.exited, 'SIGKILL');
        }
        const runtime = await startServer(eventServiceConfig({ brokers: broker.brokers, topic, env: { ...instance.env, OUTBOX_LEASE_MS: '2000' } }));
        try {
          await assertExact(runtime.url, job, count, distinct);
        } finally {
          await runtime.close();
        }
      });

      test('writes during a broker outage are counted once the broker is back, exactly', async () => {
        const job = `outage-job-${randomUUID()}`;
        const run = randomUUID().slice(0, 8);
        const writes = backend.type === 'sqlite' ? 200 : 60;
        let runtime: Runtime | undefined = await startServer(
          eventServiceConfig({ brokers: broker.brokers, topic, env: { ...instance.env, DYNAMODB_TIMEOUT_MS: '10000', MAX_EVENT_LOOP_DELAY_MS: '0' } }),
        );
        try {
          await eventually(async () => (await eventsHealth((runtime as Runtime).url)).events.status === 'ok', 30_000, 'events ok');
          const url = runtime.url;
          // A few writes counted before the outage.
          for (let i = 0; i < 5; i++) assert.equal((await write(url, { entityValue: `${run}-before-${i}`, features: { i }, computeId: job })).status, 200);
          await eventually(async () => (await jobOf(url, job)).job.records_written === 5, 30_000, 'the first writes counted');
          await broker.stop();
          try {
            const results = await pool(writes, concurrency, (i) => write(url, { entityValue: `${run}-down-${i}`, features: { i }, computeId: job }));
            assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
            // The statistics wait for the relay, which waits for the broker.
            await new Promise((r) => setTimeout(r, 1_000));
            assert.equal((await jobOf(url, job)).job.records_written, 5, 'nothing counted while events cannot be published');
          } finally {
            await broker.restart();
          }
          await assertExact(url, job, 5 + writes, 5 + writes);
        } finally {
          await runtime.close();
          runtime = undefined;
        }
      });
    });
  }
});
