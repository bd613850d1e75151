/**
 * `npm run kafka:stop [-- --wipe]`: stops the local broker of KAFKA_STATE_DIR (default
 * <project root>/.kafka): SIGTERM (controlled shutdown), SIGKILL after KAFKA_STOP_TIMEOUT
 * seconds (default 30). Nothing running is not an error. `--wipe` (or KAFKA_WIPE=1) also
 * deletes the state dir (topics, data, logs).
 */
import { stopBroker } from './kafka-broker.js';
import { brokerOptionsFromEnv } from './kafka-env.js';

const log = (line: string): void => console.error(`[kafka-stop] ${line}`);
const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--wipe');
const timeout = process.env.KAFKA_STOP_TIMEOUT?.trim() || '30';

if (unknown.length > 0 || !/^\d+$/.test(timeout)) {
  log(unknown.length > 0 ? `unknown argument: ${unknown.join(' ')} (usage: kafka:stop [-- --wipe])` : 'KAFKA_STOP_TIMEOUT must be a number of seconds');
  process.exitCode = 2;
} else {
  const wipe = args.includes('--wipe') || ['1', 'true'].includes(process.env.KAFKA_WIPE ?? '');
  try {
    await stopBroker(brokerOptionsFromEnv(process.env).stateDir, { timeoutMs: Number(timeout) * 1000, wipe, log });
  } catch (err) {
    log(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
