import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

/**
 * The real Kafka broker the event tests run against: `KAFKA_BROKERS` when the test runner set
 * it, else the one `scripts/kafka-start.sh` starts (and leaves running for the next test file;
 * `npm run kafka:stop` stops it). There is no fallback: a missing broker fails the tests.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT_TIMEOUT_MS = 180_000;

let address: string | undefined = process.env.KAFKA_BROKERS?.trim() || undefined;

/** `host:port` of the test broker, starting it first if the environment names none. */
export async function kafkaBrokers(): Promise<string> {
  address ??= await startBroker();
  return address;
}

function port(): string {
  const first = (address ?? '').split(',')[0] ?? '';
  const p = first.slice(first.lastIndexOf(':') + 1);
  return /^\d+$/.test(p) ? p : (process.env.KAFKA_PORT ?? '19092');
}

function runScript(name: string, args: string[] = []): Promise<string> {
  const env = { ...process.env, ...(address === undefined ? {} : { KAFKA_PORT: port() }) };
  return new Promise((resolve, reject) => {
    execFile('bash', [join(ROOT, 'scripts', name), ...args], { env, timeout: SCRIPT_TIMEOUT_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${name} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Starts (or checks) the broker with scripts/kafka-start.sh; resolves with its `host:port`. */
export async function startBroker(): Promise<string> {
  const stdout = await runScript('kafka-start.sh');
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const match = /^KAFKA_BROKERS=(.+)$/.exec(last);
  if (match?.[1] === undefined) throw new Error(`kafka-start.sh did not print KAFKA_BROKERS=…; stdout:\n${stdout}`);
  return match[1];
}

/** Stops the broker with scripts/kafka-stop.sh and checks it no longer accepts connections. */
export async function stopBroker(): Promise<void> {
  const brokers = await kafkaBrokers();
  await runScript('kafka-stop.sh');
  if (await accepts(brokers)) {
    throw new Error(`kafka-stop.sh ran but ${brokers} still accepts connections (is KAFKA_STATE_DIR the one that started it?)`);
  }
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
