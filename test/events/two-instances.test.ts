import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startServer, type Runtime } from '../../src/server.js';
import { startDynamoDbInstance, type DynamoDbInstance } from '../support/dynamodb-backend.js';
import { createTopic, deleteTopic, kafkaBrokers } from '../support/kafka-broker.js';
import { collect, firstDeliveryFeatures, isRecord, type Collector } from '../support/kafka-consumer.js';
import { eventServiceConfig, eventually, pool, uniqueTopic, write } from '../support/kafka-service.js';

/**
 * Several stateless instances on one DynamoDB (moto) and one broker, each with its own relay
 * on the shared outbox table: every acknowledged write's event arrives, and the events of one
 * record arrive in the order its writes were applied, whichever instance took each write and
 * whichever relay published it.
 */
describe('two service instances share one DynamoDB outbox', { timeout: 300_000 }, () => {
  const topic = uniqueTopic('two-instances');
  const run = randomUUID().slice(0, 8);
  let brokers: string;
  let instance: DynamoDbInstance;
  let runtimes: Runtime[] = [];
  let consumed: Collector;

  before(async () => {
    brokers = await kafkaBrokers();
    await createTopic(brokers, topic);
    instance = await startDynamoDbInstance();
    const config = () => eventServiceConfig({ brokers, topic, env: instance.env });
    runtimes = [await startServer(config()), await startServer(config())];
    consumed = await collect(brokers, topic);
  });
  after(async () => {
    await consumed?.stop();
    for (const r of runtimes) await r.close();
    await instance?.teardown();
    if (brokers !== undefined) await deleteTopic(brokers, topic);
  });

  test('writes alternate between instances: every event once at least, per record in write order', async () => {
    const records = 10;
    const perRecord = 6;
    await pool(records, records, async (r) => {
      for (let k = 0; k < perRecord; k++) {
        const runtime = runtimes[(r + k) % 2] as Runtime;
        const res = await write(runtime.url, { entityValue: `${run}-r${r}`, features: { [`f${k}`]: k } });
        assert.equal(res.status, 200, res.body);
      }
    });
    const mine = () => consumed.messages.filter((m) => m.key?.startsWith(`bright_uid:${run}-`));
    const distinct = () => new Set(mine().map((m) => (isRecord(m.value) ? String(m.value.event_id) : ''))).size;
    await consumed.waitFor(() => distinct() >= records * perRecord, 60_000, 'all events');
    assert.equal(distinct(), records * perRecord);
    for (let r = 0; r < records; r++) {
      assert.deepEqual(firstDeliveryFeatures(mine(), `bright_uid:${run}-r${r}`), Array.from({ length: perRecord }, (_, k) => [`f${k}`]), `record ${r}`);
    }
    for (const runtime of runtimes) {
      await eventually(async () => (await runtime.store.outbox.stats()).pending === 0, 30_000, 'an empty outbox');
    }
  });
});
