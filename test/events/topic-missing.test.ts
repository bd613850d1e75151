import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { startServer, type Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { EVENT_BACKENDS } from '../support/backends.js';
import { createTopic, deleteTopic, kafkaBrokers } from '../support/kafka-broker.js';
import { collect, type Collector } from '../support/kafka-consumer.js';
import { eventServiceConfig, eventsHealth, eventually, uniqueTopic, write } from '../support/kafka-service.js';

/**
 * A service started before its topic exists (a broker that does not auto-create topics): health
 * and the log say that the topic is missing, not that Kafka is unreachable, and the events
 * recorded meanwhile are published once the topic is created.
 */
for (const backend of EVENT_BACKENDS) describe(`missing Kafka topic (${backend.name})`, { timeout: 300_000 }, () => {
  const topic = uniqueTopic('missing');
  const run = randomUUID().slice(0, 8);
  const lines: Record<string, unknown>[] = [];
  let brokers: string;
  let instance: BackendInstance;
  let runtime: Runtime;
  let consumed: Collector | undefined;

  before(async () => {
    brokers = await kafkaBrokers();
    instance = await backend.setup();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const config = eventServiceConfig({ brokers, topic, env: instance.env });
    runtime = await startServer(config, { logger: createLogger('info', sink) });
  });

  after(async () => {
    await consumed?.stop();
    await runtime?.close();
    if (brokers !== undefined) await deleteTopic(brokers, topic);
    await instance?.teardown();
  });

  test('health is degraded with the reason; one clear warning, no kafkajs noise', async () => {
    const res = await write(runtime.url, { entityValue: `${run}-before`, features: { n: 1 } });
    assert.equal(res.status, 200, res.body);
    await eventually(async () => (await eventsHealth(runtime.url)).events.status === 'degraded', 30_000, 'events degraded');
    const { httpStatus, events } = await eventsHealth(runtime.url);
    assert.equal(httpStatus, 200, 'the service itself stays healthy');
    assert.equal(events.pending, 1);
    assert.match(String(events.reason), new RegExp(`Kafka topic '${topic}' does not exist`));
    // Several publish attempts fail meanwhile (the relay retries with backoff).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const warnings = lines.filter((l) => (l.level as number) >= 40);
    assert.ok(warnings.length >= 1, 'the missing topic is logged');
    assert.ok(
      warnings.every((l) => String(l.msg).startsWith(`Kafka topic '${topic}' does not exist`)),
      `only the relay's line, no "not reachable", no kafkajs lines:\n${warnings.map((l) => JSON.stringify(l)).join('\n')}`,
    );
    assert.equal(warnings.length, 1, 'once per interval, not once per attempt');
  });

  test('once the topic is created the pending event is published and health is ok again', async () => {
    await createTopic(brokers, topic);
    consumed = await collect(brokers, topic);
    const key = `bright_uid:${run}-before`;
    await consumed.waitFor((ms) => ms.some((m) => m.key === key), 60_000, 'the event recorded while the topic was missing');
    await eventually(async () => (await eventsHealth(runtime.url)).events.status === 'ok', 30_000, 'events ok');
    const { events } = await eventsHealth(runtime.url);
    assert.equal(events.reason, undefined);
    assert.ok(lines.some((l) => l.msg === 'Kafka topic exists now; publishing change events'), `lines.some((l) => l.msg === 'Kafka topic exists now; publishing change events')`);
  });
});
