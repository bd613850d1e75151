import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createKafkaPublisher } from '../../src/events/kafka-publisher.js';
import { OutboxRelay } from '../../src/events/outbox-relay.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import type { OutboxEvent } from '../../src/model.js';
import { outboxEvent } from '../support/fixtures.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { collect, isRecord } from '../support/kafka-consumer.js';
import { eventually, suiteTopic, tempDir } from '../support/kafka-service.js';

const logger = createLogger('silent');
const ENTITY_TABLES = { bright_uid: 'user_feature_store' };

function event(entityValue: string, feature: string, now: string): OutboxEvent {
  return outboxEvent(entityValue, { timestamp: now, features: [feature] });
}

/** Records `count` writes (with events) per key straight into the store, as the service would. */
async function preload(store: SqliteStore, keys: string[], count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    for (const key of keys) {
      const now = new Date().toISOString();
      await store.writeRecord({
        key: { entityType: 'bright_uid', entityValue: key, category: 'd0_unauth_features' },
        data: { [`n${i}`]: i },
        computeId: null,
        now,
        event: event(key, `n${i}`, now),
      });
    }
  }
}

function kafkaConfig(brokers: string, topic: string) {
  const kafka = loadConfig({ KAFKA_BROKERS: brokers, TOPIC_NAME: topic }).kafka;
  assert.ok(kafka !== undefined, 'kafka !== undefined');
  return kafka;
}

describe('outbox relay', { timeout: 300_000 }, () => {
  const dir = tempDir('feature-store-relay-');
  const suite = suiteTopic('relay');
  const { topic } = suite;

  after(() => dir.remove());

  test('drains a backlog in per-key order, batch by batch', async (t) => {
    const store = await SqliteStore.open({ path: `${dir.path}/drain.db`, entityTables: ENTITY_TABLES, synchronous: 'normal' });
    const run = randomUUID().slice(0, 8);
    const keys = Array.from({ length: 8 }, (_, k) => `${run}-${k}`);
    const perKey = 625; // 5,000 events
    await preload(store, keys, perKey);
    const metrics = createMetrics({ processMetrics: false });
    const relay = new OutboxRelay({
      outbox: store.outbox,
      publisher: createKafkaPublisher(kafkaConfig(suite.brokers, topic), logger),
      metrics,
      logger,
      options: { batchSize: 500, pollIntervalMs: 50, leaseMs: 30_000 },
    });
    const consumed = await collect(suite.brokers, topic);
    try {
      const start = performance.now();
      relay.start();
      await eventually(async () => (await store.outbox.stats()).pending === 0, 60_000, 'an empty outbox');
      const ms = performance.now() - start;
      const total = keys.length * perKey;
      t.diagnostic(`relay published ${total} events in ${ms.toFixed(0)} ms (${Math.round((total / ms) * 1000)} events/s)`);
      assert.equal((await metrics.eventsPublished.get()).values[0]?.value, total);

      await consumed.waitFor((m) => m.filter((x) => x.key?.includes(run)).length >= total, 60_000, `${total} events`);
      for (const key of keys) {
        const sequence = consumed.messages
          .filter((m) => m.key === `bright_uid:${key}`)
          .map((m) => (isRecord(m.value) && Array.isArray(m.value.features) ? String(m.value.features[0]) : ''));
        assert.deepEqual(sequence, Array.from({ length: perKey }, (_, i) => `n${i}`), `order of ${key}`);
      }
      assert.deepEqual(await relay.health(), { status: 'ok', pending: 0, oldestPendingAgeSeconds: null });
    } finally {
      await consumed.stop();
      await relay.stop();
      await store.close();
    }
  });

  test('an unreachable broker: health degraded, events kept, stop is prompt', async () => {
    const store = await SqliteStore.open({ path: `${dir.path}/down.db`, entityTables: ENTITY_TABLES });
    const metrics = createMetrics({ processMetrics: false });
    // Nothing listens on port 1 of the loopback: connections are refused.
    const relay = new OutboxRelay({
      outbox: store.outbox,
      publisher: createKafkaPublisher(kafkaConfig('127.0.0.1:1', topic), logger),
      metrics,
      logger,
      options: { batchSize: 100, pollIntervalMs: 50, leaseMs: 30_000, backoff: { initialMs: 50, maxMs: 200 } },
    });
    try {
      await preload(store, ['down'], 3);
      relay.start();
      relay.notify();
      await eventually(async () => (await metrics.eventsFailed.get()).values[0]?.value === 3 * 2, 20_000, 'two failed attempts');
      const health = await relay.health();
      assert.equal(health.status, 'degraded');
      assert.equal(health.pending, 3);
      assert.equal(typeof health.oldestPendingAgeSeconds, 'number');
      assert.equal((await metrics.outboxPending.get()).values[0]?.value, 3);
    } finally {
      const start = performance.now();
      await relay.stop();
      assert.ok(performance.now() - start < 6_000, 'stop is bounded');
    }
    // Released, not lost: another relay can claim all of them right away.
    const again = await store.outbox.claim('someone-else', 10, 1_000);
    assert.deepEqual(again.map((e) => e.event.features[0]), ['n0', 'n1', 'n2']);
    await store.close();
  });
});
