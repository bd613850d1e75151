import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, stopBroker, type Broker } from '../../scripts/kafka-broker.js';
import { brokerOptionsFromEnv } from '../../scripts/kafka-env.js';

/**
 * The real Kafka broker the event tests run against: `KAFKA_BROKERS` when the environment (the
 * test runner, CI, you) names one, else the broker of KAFKA_STATE_DIR (default .kafka/), started
 * if needed and left running for the next test file (`npm run kafka:stop` stops it). There is
 * no fallback: a missing broker fails the tests.
 */
let address: string | undefined = process.env.KAFKA_BROKERS?.trim() || undefined;

/** `host:port` of the test broker, starting it first if the environment names none. */
export async function kafkaBrokers(): Promise<string> {
  address ??= (await startBroker(brokerOptionsFromEnv(process.env))).brokers;
  return address;
}

/** A broker a test may stop and start again; `dispose()` stops it for good if the test started it. */
export interface StoppableBroker {
  readonly brokers: string;
  /** Stops the broker and checks it no longer accepts connections. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with its data. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * The broker for tests that stop one. Only a broker whose owner said it may be stopped - the
 * runner or CI sets KAFKA_TEST_BROKER_DIR to the state dir of the broker at KAFKA_BROKERS that
 * they started - is reused. Any other broker (one you run, a shared one) is never touched:
 * the test gets a private broker on a free port with a fresh state dir under the system's
 * temp dir, stopped and wiped by `dispose()`. One per test file (every call returns the same);
 * the file disposes of it with a top-level `after(disposeStoppableBroker)`.
 */
let stoppable: Promise<StoppableBroker> | undefined;
export function stoppableBroker(): Promise<StoppableBroker> {
  stoppable ??= openStoppable();
  return stoppable;
}

/** Disposes of the broker `stoppableBroker()` opened, if it did. */
export async function disposeStoppableBroker(): Promise<void> {
  const opened = await stoppable?.catch(() => undefined);
  await opened?.dispose();
}

async function openStoppable(): Promise<StoppableBroker> {
  const env = process.env;
  const ownedDir = env.KAFKA_TEST_BROKER_DIR?.trim() || undefined;
  const given = env.KAFKA_BROKERS?.trim() || undefined;
  const options = { ...brokerOptionsFromEnv(env), topics: [], port: undefined, controllerPort: undefined, preferredPort: undefined };
  let broker: Broker;
  let privateDir: string | undefined;
  if (ownedDir !== undefined && given !== undefined) {
    broker = await startBroker({ ...options, stateDir: ownedDir });
    if (broker.brokers !== given) throw new Error(`KAFKA_TEST_BROKER_DIR=${ownedDir} runs ${broker.brokers}, but KAFKA_BROKERS=${given}`);
  } else {
    privateDir = mkdtempSync(join(tmpdir(), 'feature-store-test-kafka-'));
    broker = await startBroker({ ...options, stateDir: privateDir });
  }
  const { brokers, port, stateDir } = broker;
  return {
    brokers,
    async stop() {
      await stopBroker(stateDir, { timeoutMs: 30_000 });
      if (await accepts(brokers)) throw new Error(`the broker of ${stateDir} was stopped, but ${brokers} still accepts connections`);
    },
    async restart() {
      await startBroker({ ...options, stateDir, port });
    },
    async dispose() {
      if (privateDir !== undefined) await stopBroker(privateDir, { timeoutMs: 10_000, wipe: true });
      else await startBroker({ ...options, stateDir, port }); // the owner's broker stays up, as it was given
    },
  };
}

/** Whether the first broker accepts TCP connections. */
export function accepts(brokers: string): Promise<boolean> {
  const first = brokers.split(',')[0] ?? '';
  const colon = first.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({ host: first.slice(0, colon), port: Number(first.slice(colon + 1)) });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export function testKafka(brokers: string): Kafka {
  return new Kafka({ clientId: 'feature-store-tests', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
}

/** Creates `topic` (the broker does not auto-create topics). */
export async function createTopic(brokers: string, topic: string, partitions = 3): Promise<void> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes `topic`; best effort (cleanup). */
export async function deleteTopic(brokers: string, topic: string): Promise<void> {
  const admin = testKafka(brokers).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  } catch {
    // The broker may be gone already; the topic name is unique, so leaving it does no harm.
  } finally {
    await admin.disconnect();
  }
}
