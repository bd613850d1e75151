import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * JSON logs on stdout. Per-request lines are written at `debug` (see http/app.ts) so that
 * `info` costs nothing per request; errors always carry the request id.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'feature-store' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.sasl'], remove: true },
    },
    destination,
  );
}
