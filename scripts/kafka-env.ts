import { join } from 'node:path';
import { DEFAULT_PORT, PROJECT_ROOT, type BrokerOptions } from './kafka-broker.js';

/**
 * Broker options from the environment, as `npm run kafka:start`, `npm test` and the tests
 * read them:
 *   KAFKA_STATE_DIR          data + logs + pid file (default <project root>/.kafka)
 *   KAFKA_PORT               listener port; without it 19092, or a free port if 19092 is busy
 *   KAFKA_CONTROLLER_PORT    KRaft controller port (default KAFKA_PORT + 1)
 *   KAFKA_TOPICS             comma list of topics to create if missing
 *   KAFKA_TOPIC_PARTITIONS   partitions of those topics (default 3)
 *   KAFKA_START_TIMEOUT      seconds to wait for the broker to answer (default 90)
 *   KAFKA_VERSION            Kafka version from Maven Central (default 4.4.0)
 *   KAFKA_CACHE_DIR          classpath cache (default ~/.cache/feature-store/kafka-<version>)
 *   KAFKA_HEAP_OPTS          broker heap (default "-Xms256m -Xmx512m")
 *   KAFKA_JVM_OPTS           extra broker JVM options
 *   JAVA_HOME / JAVA         Java 17+ (default: java on PATH)
 */
export function brokerOptionsFromEnv(env: NodeJS.ProcessEnv): BrokerOptions {
  const number = (name: string): number | undefined => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    if (!/^[1-9]\d*$/.test(raw)) throw new Error(`${name} must be a positive number, got '${raw}'`);
    return Number(raw);
  };
  const text = (name: string): string | undefined => (env[name]?.trim() ? env[name].trim() : undefined);
  const port = number('KAFKA_PORT');
  const timeout = number('KAFKA_START_TIMEOUT');
  const options: BrokerOptions = {
    stateDir: text('KAFKA_STATE_DIR') ?? join(PROJECT_ROOT, '.kafka'),
    preferredPort: DEFAULT_PORT,
    topics: (env.KAFKA_TOPICS ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
  };
  if (port !== undefined) options.port = port;
  const controllerPort = number('KAFKA_CONTROLLER_PORT');
  if (controllerPort !== undefined) options.controllerPort = controllerPort;
  const partitions = number('KAFKA_TOPIC_PARTITIONS');
  if (partitions !== undefined) options.partitions = partitions;
  if (timeout !== undefined) options.startTimeoutMs = timeout * 1000;
  for (const [key, name] of [
    ['version', 'KAFKA_VERSION'],
    ['cacheDir', 'KAFKA_CACHE_DIR'],
    ['heapOpts', 'KAFKA_HEAP_OPTS'],
    ['jvmOpts', 'KAFKA_JVM_OPTS'],
    ['java', 'JAVA'],
    ['javaHome', 'JAVA_HOME'],
  ] as const) {
    const value = text(name);
    if (value !== undefined) options[key] = value;
  }
  return options;
}
