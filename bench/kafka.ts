import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { baseEnv, freePortPair, runCommand } from './procs.js';

/**
 * The Kafka broker for the events-on run: `KAFKA_BROKERS` from the environment, or a private
 * single-node broker started with scripts/kafka-start.sh in the bench's temp dir (its own state
 * dir and ports, so it never touches a broker someone else is running) and stopped afterwards.
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
 * before the start script runs, so cleanup can stop a broker even if the harness is interrupted.
 */
export async function acquireBroker(
  given: string | undefined,
  root: string,
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
  const script = join(root, 'scripts', 'kafka-start.sh');
  if (!existsSync(script)) return { reason: 'no KAFKA_BROKERS and no scripts/kafka-start.sh' };
  const stateDir = join(tmpDir, 'kafka');
  const port = await freePortPair();
  onStateDir(stateDir);
  const result = await runCommand('bash', [script], {
    cwd: root,
    env: baseEnv({
      KAFKA_STATE_DIR: stateDir,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(port + 1),
      KAFKA_TOPICS: TOPIC,
      KAFKA_START_TIMEOUT: '150',
    }),
    timeoutMs: 240_000,
  });
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  const match = /^KAFKA_BROKERS=(\S+)$/.exec(last);
  if (result.code !== 0 || match?.[1] === undefined) {
    const why = result.stderr.trim().split('\n').slice(-8).join('\n');
    return { reason: `scripts/kafka-start.sh failed (exit ${result.code}):\n${why}` };
  }
  let pid: number | undefined;
  try {
    pid = Number(readFileSync(join(stateDir, 'kafka.pid'), 'utf8').trim()) || undefined;
  } catch {
    pid = undefined;
  }
  return {
    broker: {
      brokers: match[1],
      stateDir,
      ...(pid === undefined ? {} : { pid }),
      startMs: result.ms,
      origin: 'started by the bench with scripts/kafka-start.sh (private state dir, stopped afterwards)',
    },
  };
}

/** Stops and wipes a broker this run started (no-op for one given by the environment). */
export async function stopBroker(root: string, stateDir: string): Promise<void> {
  const script = join(root, 'scripts', 'kafka-stop.sh');
  if (!existsSync(script) || !existsSync(stateDir)) return;
  await runCommand('bash', [script, '--wipe'], {
    cwd: root,
    env: baseEnv({ KAFKA_STATE_DIR: stateDir, KAFKA_STOP_TIMEOUT: '20' }),
    timeoutMs: 60_000,
  });
}
