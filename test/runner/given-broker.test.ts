import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testKafka } from '../support/kafka-broker.js';

/**
 * What the test runner promises every test file: KAFKA_BROKERS names a broker that answers.
 * (runner-broker.test.ts also runs this file under a nested runner.)
 */
test('the test runner hands test files a Kafka broker that answers', async () => {
  const brokers = process.env.KAFKA_BROKERS?.trim();
  assert.ok(brokers, 'KAFKA_BROKERS is set');
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    assert.ok(cluster.brokers.length > 0, 'the broker is in its own metadata');
  } finally {
    await admin.disconnect();
  }
});
