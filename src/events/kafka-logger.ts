import { logLevel, type LogEntry, type logCreator } from 'kafkajs';

/** Where kafkajs's lines go: the service's logger with `component: 'kafkajs'`, or a thread's forwarder to it. */
export interface KafkaLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * kafkajs logs only at WARN and above (`kafkaLogLevel`), routed to pino as `warn`: kafkajs
 * reports every internal retry as an error, while the relay reports the outcome of each publish
 * attempt itself (with the error), so the relay's lines are the ones to alert on.
 */
export const kafkaLogLevel = logLevel.WARN;

/**
 * Logged at debug instead: the idempotent producer's warning that limited retries "may
 * invalidate EoS guarantees" (limited on purpose: the relay retries forever with a fresh
 * producer), and connection failures, which the relay reports itself with the error (at warn
 * when they start, then once a minute) instead of kafkajs' line per socket attempt. Likewise a
 * missing topic: kafkajs logs each metadata response that says so; the relay reports it once.
 */
const EXPECTED = ['Limiting retries for the idempotent producer', 'Connection error:', 'Failed to connect to seed broker'];
const EXPECTED_ERRORS = ['This server does not host this topic-partition'];

export function kafkaLogCreator(log: KafkaLog): logCreator {
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, ...extra } = entry as { message: string } & Record<string, unknown>;
      if (EXPECTED.some((prefix) => message.startsWith(prefix)) || EXPECTED_ERRORS.includes(String(extra.error))) {
        log.debug({ namespace, ...extra }, message);
        return;
      }
      if (level <= logLevel.WARN) log.warn({ namespace, ...extra }, message);
      else log.debug({ namespace, ...extra }, message); // only with KAFKAJS_LOG_LEVEL=info|debug
    };
}
