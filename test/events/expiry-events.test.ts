import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { startServer, type Runtime } from '../../src/server.js';
import { createTopic, deleteTopic, kafkaBrokers } from '../support/kafka-broker.js';
import { collect, isRecord, type Collector } from '../support/kafka-consumer.js';
import { eventServiceConfig, eventSchemaErrors, eventually, tempDir, uniqueTopic, write } from '../support/kafka-service.js';
import { manualClock } from '../support/service.js';

/**
 * On SQLite the service removes expired records itself: the sweeper deletes them from the file
 * once their TTL has run out, and each removal publishes a `feature_deleted` event (recorded in
 * the same transaction as the delete, so it is never lost). A record written again in time stays.
 */
describe('expiry on SQLite: records removed, feature_deleted events published', { timeout: 120_000 }, () => {
  const dir = tempDir('feature-store-expiry-');
  const topic = uniqueTopic('expiry');
  const run = randomUUID().slice(0, 8);
  const time = manualClock('2025-10-16T10:00:00.000Z');
  const sqlitePath = `${dir.path}/features.db`;
  let brokers: string;
  let runtime: Runtime;
  let consumed: Collector;

  before(async () => {
    brokers = await kafkaBrokers();
    await createTopic(brokers, topic);
    const config = eventServiceConfig({
      brokers,
      topic,
      sqlitePath,
      env: { CATEGORY_TTL: 'd0_unauth_features=1m', TTL_SWEEP_INTERVAL_MS: '100', TTL_SWEEP_BATCH: '2' },
    });
    runtime = await startServer(config, { clock: time.clock });
    consumed = await collect(brokers, topic);
  });
  after(async () => {
    await consumed?.stop();
    await runtime?.close();
    if (brokers !== undefined) await deleteTopic(brokers, topic);
    dir.remove();
  });

  test('expired records leave the file in bounded sweeps, each with a feature_deleted event; a renewed one stays', async () => {
    const ids = [0, 1, 2, 3, 4].map((i) => `${run}-exp-${i}`);
    for (const id of ids) assert.equal((await write(runtime.url, { entityValue: id, features: { score: 1, band: 'a' } })).status, 200);
    time.advance(30_000);
    const renewed = ids[4] as string;
    assert.equal((await write(runtime.url, { entityValue: renewed, features: { score: 2 } })).status, 200);
    time.advance(30_000); // the first four are now exactly at their expiry; the renewed one has 30 s left

    const rows = (): string[] => {
      const db = new Database(sqlitePath, { readonly: true });
      try {
        return (db.prepare('SELECT entity_value FROM user_feature_store ORDER BY entity_value').pluck().all() as string[]).filter((v) => v.startsWith(run));
      } finally {
        db.close();
      }
    };
    await eventually(() => rows().length === 1, 10_000, 'expired rows removed from the SQLite file');
    assert.deepEqual(rows(), [renewed]);

    const deletedOf = (id: string) =>
      consumed.messages.filter((m) => isRecord(m.value) && m.value.event_type === 'feature_deleted' && m.value.entity_id === id);
    await consumed.waitFor(() => ids.slice(0, 4).every((id) => deletedOf(id).length === 1), 30_000, 'a feature_deleted event per expired record');
    for (const id of ids.slice(0, 4)) {
      const event = deletedOf(id)[0]?.value;
      assert.deepEqual(eventSchemaErrors(event), []);
      assert.ok(isRecord(event), 'isRecord(event)');
      assert.equal(event.resource_name, 'd0_unauth_features');
      assert.deepEqual(event.features, ['score', 'band']);
      assert.equal(event.timestamp, '2025-10-16T10:01:00.000Z');
    }
    assert.equal(deletedOf(renewed).length, 0);
  });
});
