import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBroker, stopBroker, type Broker } from '../../scripts/kafka-broker.js';
import { alive } from '../../scripts/kafka-process.js';
import { accepts, disposeStoppableBroker, stoppableBroker, testKafka } from '../support/kafka-broker.js';
import { runTestRunner } from '../support/test-runner.js';

/**
 * Whose broker is whose: a busy preferred port makes a broker start on a free one; the test
 * runner never stops a broker it did not start (one at KAFKA_BROKERS, or one already running
 * in KAFKA_STATE_DIR); tests that stop a broker get a private one when the broker at
 * KAFKA_BROKERS is someone else's. Every broker here is this file's own (a state dir under the
 * temp dir, free ports); the broker the suite runs against is never stopped.
 */

async function topics(brokers: string): Promise<string[]> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

/** The test runner on given-broker.test.ts. */
const runner = (env: Record<string, string>) => runTestRunner(['test/runner/given-broker.test.ts'], env);

describe('the local broker and its owner', { timeout: 300_000 }, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'feature-store-test-kafka-'));
  let busy: Server;
  let busyPort: number;
  let broker: Broker;

  before(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const address = busy.address();
    assert.ok(typeof address === 'object' && address !== null, `typeof address === 'object' && address !== null`);
    busyPort = address.port;
    broker = await startBroker({ stateDir, preferredPort: busyPort, topics: ['runner-broker-test'], log: () => undefined });
  });

  after(async () => {
    busy?.close();
    await stopBroker(stateDir, { wipe: true, timeoutMs: 10_000, log: () => undefined });
    if (broker !== undefined) assert.equal(await accepts(broker.brokers), false, 'this file stopped its broker');
    await disposeStoppableBroker();
  });

  test('a busy preferred port: the broker listens on a free one and creates the topics', async () => {
    assert.equal(broker.started, true);
    assert.notEqual(broker.port, busyPort);
    assert.equal(broker.brokers, `127.0.0.1:${broker.port}`);
    assert.ok((await topics(broker.brokers)).includes('runner-broker-test'), `(await topics(broker.brokers)).includes('runner-broker-test')`);
  });

  test('starting the broker of a state dir that runs only checks it (and reports it did not start it)', async () => {
    const again = await startBroker({ stateDir, topics: ['runner-broker-test-2'], log: () => undefined });
    assert.equal(again.started, false);
    assert.equal(again.pid, broker.pid);
    assert.equal(again.brokers, broker.brokers);
    assert.ok((await topics(broker.brokers)).includes('runner-broker-test-2'), `(await topics(broker.brokers)).includes('runner-broker-test-2')`);
  });

  test('npm test leaves the broker at KAFKA_BROKERS running (even with its KAFKA_STATE_DIR)', async () => {
    const { code, out } = await runner({ KAFKA_BROKERS: broker.brokers, KAFKA_STATE_DIR: stateDir });
    assert.equal(code, 0, out);
    assert.match(out, /tests: 1 passed, 0 failed/);
    assert.ok(alive(broker.pid), `broker pid ${broker.pid} still runs:\n${out}`);
    assert.ok((await topics(broker.brokers)).length > 0, '(await topics(broker.brokers)).length > 0');
  });

  test('npm test uses the broker already running in KAFKA_STATE_DIR and leaves it running', async () => {
    const { code, out } = await runner({ KAFKA_STATE_DIR: stateDir });
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`Kafka at ${broker.brokers.replaceAll('.', '\\.')}: the broker already running`));
    assert.match(out, /tests: 1 passed, 0 failed/);
    assert.ok(alive(broker.pid), `broker pid ${broker.pid} still runs:\n${out}`);
    assert.ok((await topics(broker.brokers)).length > 0, '(await topics(broker.brokers)).length > 0');
  });

  test("a test that stops a broker gets a private one when the broker at KAFKA_BROKERS is someone else's", async () => {
    const saved = { brokers: process.env.KAFKA_BROKERS, dir: process.env.KAFKA_TEST_BROKER_DIR };
    process.env.KAFKA_BROKERS = broker.brokers;
    delete process.env.KAFKA_TEST_BROKER_DIR;
    try {
      const own = await stoppableBroker();
      assert.notEqual(own.brokers, broker.brokers);
      await own.stop();
      assert.equal(await accepts(own.brokers), false);
      assert.ok(alive(broker.pid), 'the given broker still runs');
      await own.restart();
      assert.ok(await accepts(own.brokers), 'await accepts(own.brokers)');
    } finally {
      for (const [key, value] of [['KAFKA_BROKERS', saved.brokers], ['KAFKA_TEST_BROKER_DIR', saved.dir]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
