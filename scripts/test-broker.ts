import { startBroker } from './kafka-broker.js';
import { brokerOptionsFromEnv } from './kafka-env.js';

/**
 * The broker `npm test` (scripts/run-tests.mjs) runs the tests against, and who owns it:
 *   - KAFKA_BROKERS set: that broker, never stopped. Tests may stop and restart it only if
 *     KAFKA_TEST_BROKER_DIR names its state dir (its owner, e.g. CI, allows it).
 *   - else the broker of KAFKA_STATE_DIR (default .kafka/): if it already runs (you started it
 *     with `npm run kafka:start`), it is used and left running; otherwise it is started - on
 *     19092, or on a free port if 19092 is busy - owned by this run (tests may stop and
 *     restart it) and stopped at the end unless KEEP_KAFKA=1.
 */
export interface TestBroker {
  brokers: string;
  /** How the broker was found, for the runner's log. */
  origin: string;
  /** State dir of a broker the tests may stop and restart (becomes KAFKA_TEST_BROKER_DIR). */
  stoppableStateDir: string | undefined;
  /** Stops the broker if this run started it (and KEEP_KAFKA is not 1); otherwise does nothing. */
  release(): Promise<void>;
}

const nothing = async (): Promise<void> => undefined;

export async function acquireTestBroker(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<TestBroker> {
  const given = env.KAFKA_BROKERS?.trim();
  if (given) {
    return { brokers: given, origin: 'KAFKA_BROKERS (not stopped by the tests)', stoppableStateDir: env.KAFKA_TEST_BROKER_DIR?.trim() || undefined, release: nothing };
  }
  const broker = await startBroker({ ...brokerOptionsFromEnv(env), log });
  if (!broker.started) {
    return { brokers: broker.brokers, origin: `the broker already running in ${broker.stateDir} (left running)`, stoppableStateDir: undefined, release: nothing };
  }
  const keep = env.KEEP_KAFKA === '1';
  return {
    brokers: broker.brokers,
    origin: `started in ${broker.stateDir}${keep ? ' (KEEP_KAFKA=1: left running)' : ''}`,
    stoppableStateDir: broker.stateDir,
    release: keep ? nothing : () => broker.stop({ log }),
  };
}
