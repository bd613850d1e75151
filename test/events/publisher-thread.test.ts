import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { DestinationMissingError } from '../../src/events/event-publisher.js';
import { OutboxRelay } from '../../src/events/outbox-relay.js';
import { PublisherThreadError } from '../../src/events/publisher-protocol.js';
import { createThreadKafkaPublisher, ThreadPublisher } from '../../src/events/publisher-thread.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { outboxEventFromText, type OutboxEvent } from '../../src/model.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { outboxEvent } from '../support/fixtures.js';
import { collect, isRecord } from '../support/kafka-consumer.js';
import { eventually, suiteTopic, tempDir, uniqueTopic } from '../support/kafka-service.js';

const FIXTURE = new URL('./fixtures/scripted-publisher-worker.ts', import.meta.url);

/** A logger whose JSON lines are kept in `lines`. */
function capturingLogger(level: 'debug' | 'info' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

/** An outbox event with `key`, carrying its stored text as an outbox read gives it. */
function stored(key: string, n: number): OutboxEvent {
  const e = outboxEvent(`v${n}`, { timestamp: new Date(0).toISOString(), features: [`f${n}`] });
  return outboxEventFromText(e.id, key, e.event, `{"n":${n},"key":${JSON.stringify(key)}}`);
}

describe('publisher thread (scripted thread)', { timeout: 120_000 }, () => {
  const dir = tempDir('feature-store-publisher-thread-');
  after(() => dir.remove());

  function scripted(logger = createLogger('silent')): { publisher: ThreadPublisher; published: () => string[] } {
    const log = `${dir.path}/${randomUUID()}.log`;
    writeFileSync(log, '');
    const publisher = new ThreadPublisher({ entry: FIXTURE, workerData: { log }, logger });
    return { publisher, published: () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') };
  }

  test('publishes the stored texts, in order, one publish after the other', async () => {
    const { publisher, published } = scripted();
    try {
      const events = Array.from({ length: 300 }, (_, n) => stored(`k${n % 7}`, n));
      for (let i = 0; i < events.length; i += 100) await publisher.publish(events.slice(i, i + 100));
      await publisher.publish([]);
      assert.deepEqual(
        published(),
        events.map((e, n) => `${e.key} {"n":${n},"key":"${e.key}"}`),
      );
    } finally {
      await publisher.close();
    }
  });

  test('a missing destination stays a DestinationMissingError across the thread boundary', async () => {
    const { publisher } = scripted();
    try {
      await assert.rejects(publisher.publish([stored('missing', 1)]), (err: unknown) => {
        assert.ok(err instanceof DestinationMissingError, String(err));
        assert.equal(err.code, 'EVENT_DESTINATION_MISSING');
        assert.equal(err.message, "Kafka topic 'x' does not exist");
        return true;
      });
      // The thread is still there and serves the next request.
      await publisher.publish([stored('after', 2)]);
    } finally {
      await publisher.close();
    }
  });

  test('a thread that dies rejects its request, is logged, and the next request starts a new one', async () => {
    const { logger, lines } = capturingLogger();
    const { publisher, published } = scripted(logger);
    try {
      await assert.rejects(publisher.publish([stored('a', 1), stored('exit', 2)]), (err: unknown) => {
        assert.ok(err instanceof PublisherThreadError, String(err));
        assert.match(err.message, /event publisher thread exited \(code 3\)/);
        return true;
      });
      assert.equal(publisher.running, false);
      const ended = lines.find((l) => l.msg === 'event publisher thread ended; a new one starts with the next attempt');
      assert.ok(ended, JSON.stringify(lines));
      assert.equal(ended.level, 50);
      assert.equal(ended.component, 'event-publisher');
      await publisher.publish([stored('b', 3)]);
      assert.deepEqual(published(), ['b {"n":3,"key":"b"}']);
    } finally {
      await publisher.close();
    }
  });

  test('an uncaught error in the thread: the relay backs off, a new thread publishes the same events', async () => {
    const { logger, lines } = capturingLogger();
    const { publisher, published } = scripted(logger);
    const store = await SqliteStore.open({ path: `${dir.path}/crash.db`, entityTables: { bright_uid: 'user_feature_store' } });
    const metrics = createMetrics({ processMetrics: false });
    const relay = new OutboxRelay({
      outbox: store.outbox,
      publisher,
      metrics,
      logger,
      options: { batchSize: 100, pollIntervalMs: 50, leaseMs: 30_000, backoff: { initialMs: 50, maxMs: 200 } },
    });
    try {
      const values = ['first', `crash-once:${dir.path}/crashed`, 'last'];
      for (const [i, value] of values.entries()) {
        const now = new Date().toISOString();
        await store.writeRecord({
          key: { entityType: 'bright_uid', entityValue: value, category: 'd0_unauth_features' },
          data: { n: i },
          computeId: null,
          now,
          event: outboxEvent(value, { timestamp: now, features: ['n'] }),
        });
      }
      relay.start();
      relay.notify();
      await eventually(async () => (await store.outbox.stats()).pending === 0, 30_000, 'an empty outbox');
      assert.deepEqual(
        published().map((l) => l.split(' ')[0]),
        values.map((v) => `bright_uid:${v}`),
      );
      assert.equal((await metrics.eventsFailed.get()).values[0]?.value, 3);
      assert.equal((await metrics.eventsPublished.get()).values[0]?.value, 3);
      const ended = lines.find((l) => l.msg === 'event publisher thread ended; a new one starts with the next attempt');
      assert.ok(ended, JSON.stringify(lines));
      assert.match(String((ended.err as { message?: unknown }).message), /event publisher thread failed: scripted crash/);
    } finally {
      await relay.stop();
      await store.close();
    }
    assert.equal(publisher.running, false, 'stop ends the thread');
  });

  test('close during a publish: the publish fails, the thread ends', async () => {
    const { publisher } = scripted();
    const publishing = publisher.publish([stored('hang', 1)]);
    const outcome = publishing.then(
      () => 'resolved',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(publisher.running, true);
    await publisher.close();
    assert.equal(await outcome, 'closed while publishing');
    assert.equal(publisher.running, false);
    await publisher.close(); // idempotent
  });

  test("the thread's log lines reach the service's logger with its fields", async () => {
    const { logger, lines } = capturingLogger();
    const { publisher } = scripted(logger);
    try {
      await publisher.publish([stored('a', 1), stored('b', 2)]);
      const line = lines.find((l) => l.msg === 'publishing');
      assert.ok(line, JSON.stringify(lines));
      assert.equal(line.level, 40);
      assert.equal(line.component, 'kafkajs');
      assert.equal(line.service, 'feature-store');
      assert.equal(line.namespace, 'Fixture');
      assert.equal(line.events, 2);
    } finally {
      await publisher.close();
    }
  });
});

describe('publisher thread (Kafka)', { timeout: 300_000 }, () => {
  const suite = suiteTopic('thread');
  const { topic } = suite;

  function kafkaConfig(topicName: string) {
    const kafka = loadConfig({ KAFKA_BROKERS: suite.brokers, TOPIC_NAME: topicName }).kafka;
    assert.ok(kafka !== undefined, 'kafka !== undefined');
    return kafka;
  }

  test('events are acknowledged before publish resolves, in order per key', async () => {
    const publisher = createThreadKafkaPublisher(kafkaConfig(topic), createLogger('silent'));
    const consumed = await collect(suite.brokers, topic);
    const run = randomUUID().slice(0, 8);
    const keys = Array.from({ length: 5 }, (_, k) => `bright_uid:${run}-${k}`);
    const perKey = 200;
    try {
      const events = Array.from({ length: perKey * keys.length }, (_, n) => stored(keys[n % keys.length] ?? '', n));
      for (let i = 0; i < events.length; i += 250) await publisher.publish(events.slice(i, i + 250));
      await consumed.waitFor((m) => m.filter((x) => x.key?.includes(run)).length >= events.length, 60_000, 'every event');
      for (const key of keys) {
        const sequence = consumed.messages.filter((m) => m.key === key).map((m) => (isRecord(m.value) ? m.value.n : undefined));
        const expected = events.flatMap((e, n) => (e.key === key ? [n] : []));
        assert.deepEqual(sequence, expected, `order of ${key}`);
      }
      assert.deepEqual(consumed.messages.find((m) => m.key === keys[0])?.headers, { 'content-type': 'application/json' });
    } finally {
      await consumed.stop();
      await publisher.close();
    }
  });

  test('a missing topic is a DestinationMissingError from publish and probe', async () => {
    const publisher = createThreadKafkaPublisher(kafkaConfig(uniqueTopic('absent')), createLogger('silent'));
    try {
      await assert.rejects(publisher.probe(), DestinationMissingError);
      await assert.rejects(publisher.publish([stored('bright_uid:absent', 1)]), (err: unknown) => {
        assert.ok(err instanceof DestinationMissingError, String(err));
        assert.equal(err.name, 'KafkaTopicMissingError');
        assert.match(err.message, /does not exist/);
        return true;
      });
    } finally {
      await publisher.close();
    }
    assert.equal(publisher.running, false);
  });
});
