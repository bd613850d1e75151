import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * Fastify logs "Server listening at <url>" itself when it listens; the service logs
 * "feature store listening" with the store, host and port as fields, so Fastify's line is
 * dropped to keep one line per event.
 */
const FASTIFY_LISTENING = 'Server listening at ';

let stdoutSink: pino.DestinationStream | undefined;

/**
 * Standard output as a log destination that stops writing once stdout fails (EPIPE when the
 * reader is gone, as with `serve | head -3`). pino's own stdout stream retries a failed write
 * forever when the process exits (its synchronous flush loops on EPIPE), so shutdown would never
 * complete. Writes to stdout are synchronous on Linux for files, pipes and terminals, so nothing
 * is buffered when the process exits. One per process: every logger shares the listener.
 */
export function stdoutDestination(): pino.DestinationStream {
  if (stdoutSink !== undefined) return stdoutSink;
  let open = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!open) return;
    open = false;
    // stderr may be gone too (`serve 2>&1 | head`); then there is nobody left to tell.
    process.stderr.on('error', () => undefined);
    process.stderr.write(`feature-store: standard output failed (${err.code ?? err.message}); logging stopped\n`);
  });
  stdoutSink = {
    write(line: string) {
      if (open) process.stdout.write(line);
    },
  };
  return stdoutSink;
}

/**
 * JSON logs on stdout. Per-request lines are written at `debug` (see http/app.ts) so that
 * `info` costs nothing per request; errors always carry the request id.
 */
export function createLogger(level: LogLevel, destination: pino.DestinationStream = stdoutDestination()): Logger {
  return pino(
    {
      level,
      base: { service: 'feature-store' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.sasl'], remove: true },
      hooks: {
        logMethod(args, method) {
          if (typeof args[0] === 'string' && args[0].startsWith(FASTIFY_LISTENING)) return;
          method.apply(this, args);
        },
      },
    },
    destination,
  );
}
