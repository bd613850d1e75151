import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startServer, type Runtime } from '../../src/server.js';
import { assertDeleteEventsPublished } from '../support/delete-events.js';
import { createTopic, deleteTopic, kafkaBrokers } from '../support/kafka-broker.js';
import { collect, firstDeliveryFeatures, isRecord, type Collector } from '../support/kafka-consumer.js';
import { eventServiceConfig, eventually, eventsHealth, pool, uniqueTopic, write } from '../support/kafka-service.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';

/**
 * The DynamoDB outbox end to end: the service's own relay moves events from the items to a real
 * Kafka broker. Every acknowledged write yields its event, each record's events in write order,
 * and the outbox drains to empty.
 */
describe('DynamoDB: change events reach Kafka', { timeout: 300_000 }, () => {
  const topic = uniqueTopic('dynamodb-events');
  const run = randomUUID().slice(0, 8);
  let brokers: string;
  let instance: DynamoDbInstance;
  let runtime: Runtime;
  let consumed: Collector;

  before(async () => {
    brokers = await kafkaBrokers();
    await createTopic(brokers, topic);
    instance = await startDynamoDbInstance();
    runtime = await startServer(eventServiceConfig({ brokers, topic, env: instance.env }));
    consumed = await collect(brokers, topic);
  });
  after(async () => {
    await consumed?.stop();
    await runtime?.close();
    await instance?.teardown();
    if (brokers !== undefined) await deleteTopic(brokers, topic);
  });

  test('concurrent writes to 20 records, 5 each: every event once, per record in write order, outbox empty', async () => {
    assert.equal(runtime.store.type, 'dynamodb');
    const records = 20;
    const perRecord = 5;
    // Writes to one record are sequential (so their order is defined); records run concurrently.
    await pool(records, records, async (r) => {
      for (let k = 0; k < perRecord; k++) {
        const res = await write(runtime.url, { entityValue: `${run}-r${r}`, features: { [`f${k}`]: k } });
        assert.equal(res.status, 200, res.body);
      }
    });
    const mine = () => consumed.messages.filter((m) => m.key?.startsWith(`bright_uid:${run}-`));
    await consumed.waitFor(() => new Set(mine().map((m) => (isRecord(m.value) ? m.value.event_id : ''))).size >= records * perRecord, 60_000, 'all events');
    const ids = mine().map((m) => (isRecord(m.value) ? String(m.value.event_id) : ''));
    assert.equal(new Set(ids).size, records * perRecord);
    for (let r = 0; r < records; r++) {
      assert.deepEqual(firstDeliveryFeatures(mine(), `bright_uid:${run}-r${r}`), Array.from({ length: perRecord }, (_, k) => [`f${k}`]), `record ${r}`);
    }
    await eventually(async () => (await runtime.store.outbox.stats()).pending === 0, 30_000, 'an empty outbox');
    const health = await eventsHealth(runtime.url);
    assert.equal(health.httpStatus, 200);
    assert.equal(health.events.pending, 0);
  });

  test('deletes and erasures publish one feature_deleted event per deleted record, after the writes', async () => {
    await assertDeleteEventsPublished(runtime.url, consumed, `${run}-delete`);
  });
});
