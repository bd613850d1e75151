import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { startServer, type Runtime } from '../../src/server.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { createTopic, deleteTopic, kafkaBrokers } from '../support/kafka-broker.js';
import { assertDeleteEventsPublished } from '../support/delete-events.js';
import { collect, isRecord, type Collector, type ConsumedMessage } from '../support/kafka-consumer.js';
import {
  eventServiceConfig,
  eventsHealth,
  eventSchemaErrors,
  eventually,
  getJson,
  getText,
  metricValue,
  pool,
  tempDir,
  uniqueTopic,
  write,
  type WriteInput,
} from '../support/kafka-service.js';

/** Events of a healthy pipeline, consumed from a real broker (see test/support/kafka-broker.ts). */
const EVENT_KEYS = [
  'event_id',
  'event_type',
  'timestamp',
  'entity_type',
  'entity_id',
  'resource_type',
  'resource_name',
  'compute_id',
  'event_time',
  'features',
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('change events on Kafka', { timeout: 300_000 }, () => {
  const dir = tempDir('feature-store-events-');
  const topic = uniqueTopic('events');
  const run = randomUUID().slice(0, 8);
  let brokers: string;
  let runtime: Runtime;
  let consumed: Collector;

  before(async () => {
    brokers = await kafkaBrokers();
    await createTopic(brokers, topic);
    runtime = await startServer(eventServiceConfig({ brokers, topic, sqlitePath: `${dir.path}/features.db` }));
    consumed = await collect(brokers, topic);
  });

  after(async () => {
    await consumed?.stop();
    await runtime?.close();
    if (brokers !== undefined) await deleteTopic(brokers, topic);
    dir.remove();
  });

  const byKey = (prefix: string): ConsumedMessage[] => consumed.messages.filter((m) => m.key?.startsWith(prefix));

  test('each write yields exactly one event with the exact fields, key and header', async () => {
    const writes: (WriteInput & { entityType: string; category: string })[] = [
      {
        entityType: 'bright_uid',
        entityValue: `${run}-one user:ü 100%`,
        category: 'd0_unauth_features',
        features: { zeta: 1, alpha: { nested: [1, 2] }, mid: 'x', beta: null },
        computeId: 'spark-job-2025-10-16-abc123',
      },
      { entityType: 'bright_uid', entityValue: `${run}-one user:ü 100%`, category: 'ncr_unauth_features', features: { b: true, a: 0.35 } },
      { entityType: 'account_pid', entityValue: `${run}-two`, category: 'd0_unauth_features', features: { only: 750 }, computeId: null },
      {
        entityType: 'account_pid',
        entityValue: `${run}-three`,
        category: 'ncr_unauth_features',
        features: { as_of: 1 },
        computeId: 'job-7',
        eventTime: '2025-10-16T12:00:00.5+02:00',
      },
    ];
    const expected = [];
    for (const w of writes) {
      const res = await write(runtime.url, w);
      assert.equal(res.status, 200, res.body);
      const path = `/api/v1/get/item/${encodeURIComponent(w.entityValue)}/${w.category}?entity_type=${w.entityType}`;
      const record = await getJson(runtime.url + path);
      assert.equal(record.status, 200);
      const meta = isRecord(record.json) && isRecord(record.json.features) && isRecord(record.json.features.meta) ? record.json.features.meta : {};
      expected.push({
        key: `${w.entityType}:${w.entityValue}`,
        event: {
          event_type: 'feature_available',
          timestamp: meta.updated_at,
          entity_type: w.entityType,
          entity_id: w.entityValue,
          resource_type: 'feature',
          resource_name: w.category,
          compute_id: w.computeId ?? null,
          // Canonical form of meta.event_time, null when the write gave none.
          event_time: w.eventTime === undefined ? null : '2025-10-16T10:00:00.500Z',
          features: Object.keys(w.features),
        },
      });
    }

    const mine = (): ConsumedMessage[] => consumed.messages.filter((m) => m.key !== null && m.key.includes(run));
    await consumed.waitFor(() => mine().length >= writes.length, 30_000, `${writes.length} events`);
    await sleep(1_000); // a duplicate would show up in this time
    const messages = mine();
    assert.equal(messages.length, writes.length, 'exactly one event per write');

    const ids = new Set<string>();
    for (const want of expected) {
      const matching = messages.filter((m) => m.key === want.key && isRecord(m.value) && m.value.resource_name === want.event.resource_name);
      assert.equal(matching.length, 1, `one event for ${want.key} ${want.event.resource_name}`);
      const message = matching[0] as ConsumedMessage;
      assert.deepEqual(eventSchemaErrors(message.value), [], 'the value conforms to docs/event.schema.json');
      assert.ok(isRecord(message.value), 'isRecord(message.value)');
      const { event_id: eventId, ...rest } = message.value;
      assert.match(String(eventId), UUID);
      ids.add(String(eventId));
      assert.deepEqual(rest, want.event);
      assert.deepEqual(Object.keys(message.value), EVENT_KEYS, 'fields in documented order');
      assert.equal(message.raw, JSON.stringify(message.value), 'plain compact JSON');
      assert.deepEqual(message.headers, { 'content-type': 'application/json' });
    }
    assert.equal(ids.size, writes.length, 'event ids are distinct');
  });

  test('per-key order is kept across many writes to a few keys', async () => {
    const keys = 4;
    const perKey = 75;
    const prefix = `bright_uid:${run}-order-`;
    // Writes to one key are sequential (so their order is defined); keys are written concurrently.
    await Promise.all(
      Array.from({ length: keys }, async (_, k) => {
        for (let i = 0; i < perKey; i++) {
          const res = await write(runtime.url, { entityValue: `${run}-order-${k}`, features: { [`n${i}`]: i } });
          assert.equal(res.status, 200, res.body);
        }
      }),
    );
    await consumed.waitFor(() => new Set(byKey(prefix).map((m) => m.raw)).size >= keys * perKey, 60_000, `${keys * perKey} ordered events`);
    for (let k = 0; k < keys; k++) {
      const seen = new Set<string>();
      const sequence: string[] = [];
      for (const m of byKey(`${prefix}${k}`)) {
        if (!isRecord(m.value) || seen.has(String(m.value.event_id))) continue; // dedupe by event_id
        seen.add(String(m.value.event_id));
        sequence.push(String((m.value.features as unknown[])[0]));
      }
      assert.deepEqual(sequence, Array.from({ length: perKey }, (_, i) => `n${i}`), `order of key ${k}`);
    }
  });

  test('deletes and erasures publish one feature_deleted event per deleted record, after the writes', async () => {
    await assertDeleteEventsPublished(runtime.url, consumed, `${run}-delete`);
  });

  test('a stale write (older event_time, 409) emits no event; the writes around it do, with their event_time', async () => {
    const entityValue = `${run}-stale`;
    const sent = [
      { eventTime: '2025-10-16T10:00:00Z', status: 200 },
      { eventTime: '2025-10-16T09:00:00Z', status: 409 },
      { eventTime: '2025-10-16T11:00:00Z', status: 200 },
    ];
    for (const [i, w] of sent.entries()) {
      const res = await write(runtime.url, { entityValue, features: { [`n${i}`]: i }, eventTime: w.eventTime });
      assert.equal(res.status, w.status, res.body);
    }
    await consumed.waitFor(() => byKey(`bright_uid:${entityValue}`).length >= 2, 30_000, 'two events');
    await sleep(1_000); // an event of the stale write would show up in this time
    const events = byKey(`bright_uid:${entityValue}`).map((m) => (isRecord(m.value) ? [m.value.event_time, m.value.features] : undefined));
    assert.deepEqual(events, [
      ['2025-10-16T10:00:00.000Z', ['n0']],
      ['2025-10-16T11:00:00.000Z', ['n2']],
    ]);
  });

  test('health and metrics show the pipeline working', async () => {
    await eventually(async () => (await eventsHealth(runtime.url)).events.pending === 0, 10_000, 'an empty outbox');
    const { httpStatus, events } = await eventsHealth(runtime.url);
    assert.equal(httpStatus, 200);
    assert.deepEqual(events, { enabled: true, status: 'ok', pending: 0, oldest_pending_age_seconds: null });
    const metrics = await getText(`${runtime.url}/metrics`);
    assert.ok((metricValue(metrics, 'feature_store_events_published_total') ?? 0) >= 303, 'published counter');
    assert.equal(metricValue(metrics, 'feature_store_events_failed_total'), 0);
    assert.equal(metricValue(metrics, 'feature_store_outbox_pending'), 0);
    assert.equal(metricValue(metrics, 'feature_store_outbox_oldest_pending_age_seconds'), 0);
  });

  test('writes with many concurrent clients all produce their events', async (t) => {
    const count = 500;
    const start = performance.now();
    const results = await pool(count, 25, (i) => write(runtime.url, { entityValue: `${run}-burst-${i}`, features: { i } }));
    const writeMs = performance.now() - start;
    assert.ok(results.every((r) => r.status === 200), 'results.every((r) => r.status === 200)');
    const prefix = `bright_uid:${run}-burst-`;
    await consumed.waitFor(() => new Set(byKey(prefix).map((m) => m.key)).size >= count, 60_000, `${count} events`);
    const totalMs = performance.now() - start;
    t.diagnostic(`${count} writes (25 concurrent) in ${writeMs.toFixed(0)} ms; all events consumed after ${totalMs.toFixed(0)} ms`);
  });

  test('closing the service in the middle of writes loses no acknowledged event, logs no error', async (t) => {
    const count = 600;
    const sqlitePath = `${dir.path}/close.db`;
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
        done();
      },
    });
    const config = eventServiceConfig({ brokers, topic, sqlitePath, env: { OUTBOX_BATCH_SIZE: '20' } });
    const service = await startServer(config, { logger: createLogger('warn', sink) });
    let closing: Promise<void> | undefined;
    const acknowledged: number[] = [];
    await pool(count, 25, async (i) => {
      if (i === count / 2) closing = service.close(); // while writes and publishing are under way
      const res = await write(service.url, { entityValue: `${run}-close-${i}`, features: { i } }).catch(() => undefined);
      if (res?.status === 200) acknowledged.push(i);
    });
    await closing;
    assert.ok(acknowledged.length >= count / 2 - 25, `${acknowledged.length} writes acknowledged`);

    const problems = lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
    assert.deepEqual(problems, [], 'no error logged on shutdown');
    // Every acknowledged write's event is on the topic or still in the outbox for the next start.
    const store = await SqliteStore.open({ path: sqlitePath, entityTables: config.entityTables });
    const left = await store.outbox.claim('test', 10_000, 1_000);
    await store.close();
    const prefix = `bright_uid:${run}-close-`;
    await sleep(1_000); // events published before the close reach the consumer
    const keys = new Set([...byKey(prefix).map((m) => m.key), ...left.map((e) => e.key)]);
    for (const i of acknowledged) assert.ok(keys.has(`${prefix}${i}`), `event of acknowledged write ${i}`);
    t.diagnostic(`${acknowledged.length} writes acknowledged before the close; ${left.length} events left pending for the next start`);
  });
});
