import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startServer, type Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { EVENT_BACKENDS } from '../support/backends.js';
import { createTopic, deleteTopic, disposeStoppableBroker, stoppableBroker, type StoppableBroker } from '../support/kafka-broker.js';
import { collect, eventIds } from '../support/kafka-consumer.js';
import {
  eventServiceConfig,
  eventsHealth,
  eventually,
  getText,
  metricValue,
  pool,
  uniqueTopic,
  write,
} from '../support/kafka-service.js';

/**
 * Stops and restarts a broker: the runner's own, or a private one on a free port when the
 * broker at KAFKA_BROKERS belongs to someone else (see stoppableBroker). Not to be run in
 * parallel with other tests using the runner's broker. The broker is restarted in `finally`
 * whatever happens.
 */
after(disposeStoppableBroker);

for (const backend of EVENT_BACKENDS) describe(`broker outage (${backend.name})`, { timeout: 300_000 }, () => {
  const topic = uniqueTopic('outage');
  const run = randomUUID().slice(0, 8);
  let broker: StoppableBroker;
  let brokers: string;
  let instance: BackendInstance;
  let runtime: Runtime;

  before(async () => {
    broker = await stoppableBroker();
    brokers = broker.brokers;
    await createTopic(brokers, topic);
    instance = await backend.setup();
    // A generous store timeout: the emulator, not Kafka, sets the pace of these writes.
    runtime = await startServer(eventServiceConfig({ brokers, topic, env: { ...instance.env, DYNAMODB_TIMEOUT_MS: '10000' } }));
  });

  after(async () => {
    await runtime?.close();
    await instance?.teardown();
    if (brokers !== undefined) await deleteTopic(brokers, topic);
  });

  // moto serves one request at a time and copies the tables a transaction touches, so it is
  // given fewer writes; "promptly" means no write waits for Kafka (kafkajs would take seconds
  // per retry), measured against what the store itself takes.
  const { count, concurrency, promptMs } =
    backend.type === 'sqlite' ? { count: 1_000, concurrency: 20, promptMs: 1_000 } : { count: 150, concurrency: 5, promptMs: 5_000 };

  test(`${count} writes with the broker down return 200 promptly; all their events arrive once it is back`, async (t) => {
    const prefix = `bright_uid:${run}-down-`;
    // Connected and idle before the outage.
    await eventually(async () => (await eventsHealth(runtime.url)).events.status === 'ok', 15_000, 'events ok');
    let restartedAt = 0;
    try {
      await broker.stop();

      const start = performance.now();
      const results = await pool(count, concurrency, (i) => write(runtime.url, { entityValue: `${run}-down-${i}`, features: { i } }));
      const elapsed = performance.now() - start;
      const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
      const p99 = latencies[Math.floor(count * 0.99)] ?? NaN;
      const max = latencies.at(-1) ?? NaN;
      t.diagnostic(`${count} writes with the broker down: ${elapsed.toFixed(0)} ms total, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
      // A request that waited for Kafka would take kafkajs' retry time (seconds), not milliseconds.
      assert.ok(max < promptMs, `slowest write took ${max.toFixed(0)} ms`);

      await eventually(
        async () => {
          const { httpStatus, events } = await eventsHealth(runtime.url);
          return httpStatus === 200 && events.status === 'degraded' && events.pending === count;
        },
        15_000,
        'health: events degraded with every event pending',
      );
      const { events } = await eventsHealth(runtime.url);
      assert.equal(typeof events.oldest_pending_age_seconds, 'number');
      await eventually(
        async () => metricValue(await getText(`${runtime.url}/metrics`), 'feature_store_outbox_pending') === count,
        5_000,
        'outbox_pending metric',
      );
      // Health turns degraded when the client loses the broker; a publish counts as failed only
      // when the client gives it up (its retries take seconds), which may come later.
      await eventually(
        async () => (metricValue(await getText(`${runtime.url}/metrics`), 'feature_store_events_failed_total') ?? 0) > 0,
        30_000,
        'failed publishes are counted',
      );
      const metrics = await getText(`${runtime.url}/metrics`);
      assert.ok((metricValue(metrics, 'feature_store_outbox_oldest_pending_age_seconds') ?? 0) > 0, `(metricValue(metrics, 'feature_store_outbox_oldest_pending_age_seconds') ?? 0) > 0`);
    } finally {
      await broker.restart();
      restartedAt = performance.now();
    }

    const consumed = await collect(brokers, topic);
    try {
      await consumed.waitFor((m) => eventIds(m, prefix).size >= count, 90_000, `all ${count} events after the restart`);
      t.diagnostic(`all ${count} events consumed ${(performance.now() - restartedAt).toFixed(0)} ms after the broker was back`);
      const keys = new Set(consumed.messages.filter((m) => m.key?.startsWith(prefix)).map((m) => m.key));
      assert.equal(keys.size, count, 'every write has its event');
    } finally {
      await consumed.stop();
    }
    await eventually(async () => (await eventsHealth(runtime.url)).events.status === 'ok', 15_000, 'events ok again');
    const metrics = await getText(`${runtime.url}/metrics`);
    assert.ok((metricValue(metrics, 'feature_store_events_published_total') ?? 0) >= count, `(metricValue(metrics, 'feature_store_events_published_total') ?? 0) >= count`);
    await eventually(
      async () => metricValue(await getText(`${runtime.url}/metrics`), 'feature_store_outbox_pending') === 0,
      5_000,
      'outbox drained',
    );
  });
});
