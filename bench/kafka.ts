import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, stopBroker as stopLocalBroker } from '../scripts/kafka-broker.js';

/**
 * The Kafka broker for the events-on run: `KAFKA_BROKERS` from the environment, or a private
 * single-node broker started with scripts/kafka-broker.ts in the bench's temp dir (its own state
 * dir and free ports, so it never touches a broker someone else is running) and stopped afterwards.
 */
export interface Broker {
  brokers: string;
  /** State dir of a broker this run started (stopped and wiped in cleanup). */
  stateDir?: string;
  pid?: number;
  startMs: number;
  origin: string;
}

export const TOPIC = 'FEATURE_AVAILABILITY_EVENTS';

function admin(brokers: string) {
  return new Kafka({
    clientId: 'feature-store-bench',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 2 },
  }).admin();
}

/** Creates the topic if it is missing (brokers run with auto-creation off). */
async function ensureTopic(brokers: string, topic: string): Promise<void> {
  const a = admin(brokers);
  await a.connect();
  try {
    await a.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true, timeout: 20_000 });
  } finally {
    await a.disconnect();
  }
}

/** Sum of the topic's high watermarks (messages ever written), or undefined if unreachable. */
export async function topicEndOffsets(brokers: string, topic: string): Promise<number | undefined> {
  const a = admin(brokers);
  try {
    await a.connect();
    const offsets = await a.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } catch {
    return undefined;
  } finally {
    await a.disconnect().catch(() => undefined);
  }
}

/**
 * Resolves with a broker, or with the reason there is none. `onStateDir` is told the state dir
 * before the broker starts, so cleanup can stop a broker even if the harness is interrupted.
 */
export async function acquireBroker(
  given: string | undefined,
  tmpDir: string,
  onStateDir: (dir: string) => void,
): Promise<{ broker: Broker } | { reason: string }> {
  const t0 = performance.now();
  if (given !== undefined) {
    try {
      await ensureTopic(given, TOPIC);
    } catch (err) {
      return { reason: `KAFKA_BROKERS=${given} given, but topic ${TOPIC} could not be checked/created: ${String(err)}` };
    }
    return { broker: { brokers: given, startMs: performance.now() - t0, origin: 'KAFKA_BROKERS from the environment' } };
  }
  const stateDir = join(tmpDir, 'kafka');
  onStateDir(stateDir);
  try {
    const broker = await startBroker({ stateDir, topics: [TOPIC], startTimeoutMs: 150_000, log: () => undefined });
    return {
      broker: {
        brokers: broker.brokers,
        stateDir,
        pid: broker.pid,
        startMs: performance.now() - t0,
        origin: 'started by the bench with scripts/kafka-broker.ts (private state dir, stopped afterwards)',
      },
    };
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).trim().split('\n').slice(0, 8).join('\n');
    return { reason: `the bench's Kafka broker did not start:\n${why}` };
  }
}

/** Stops and wipes a broker this run started (no-op for one given by the environment). */
export async function stopBroker(stateDir: string): Promise<void> {
  await stopLocalBroker(stateDir, { timeoutMs: 20_000, wipe: true, log: () => undefined });
}
