/**
 * `npm run kafka:start`: starts the local broker (see kafka-broker.ts; variables in
 * kafka-env.ts) and creates the service's topics: KAFKA_TOPICS, by default TOPIC_NAME or
 * FEATURE_AVAILABILITY_EVENTS. Progress goes to stderr; the LAST line on stdout is exactly
 *   KAFKA_BROKERS=127.0.0.1:<port>
 * so a shell can do:  export "$(npm run --silent kafka:start | tail -n1)"
 * Idempotent: a running broker of the state dir is only checked (and given missing topics).
 */
import { startBroker } from './kafka-broker.js';
import { brokerOptionsFromEnv } from './kafka-env.js';

const env = { ...process.env };
env.KAFKA_TOPICS = env.KAFKA_TOPICS?.trim() || env.TOPIC_NAME?.trim() || 'FEATURE_AVAILABILITY_EVENTS';

try {
  const broker = await startBroker({ ...brokerOptionsFromEnv(env), log: (line) => console.error(`[kafka-start] ${line}`) });
  console.log(`KAFKA_BROKERS=${broker.brokers}`);
} catch (err) {
  console.error(`[kafka-start] ERROR: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
