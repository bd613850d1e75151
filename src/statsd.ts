import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { StatsdConfig } from './config.js';
import type { Logger } from './logger.js';

/**
 * The optional StatsD sink that keeps dashboards built on the old service's metrics working:
 * its metric names, bounded tags and wire format (README, "Legacy StatsD metrics").
 * Plain StatsD over UDP with Influx/Telegraf-style tags in the name:
 *   `<prefix>.<name>,k1=v1,k2=v2:<value>|c|ms|g`
 * Fire and forget: lines of one event-loop turn go out together (newline-separated, packets
 * under 1,432 bytes); a failure to send is logged once and never reaches a request.
 */
export type { StatsdConfig } from './config.js';

/** Tag values must be bounded (route templates, configured names, status codes). */
export type Tags = Readonly<Record<string, string | number>>;

export interface Statsd {
  count(name: string, tags?: Tags): void;
  timing(name: string, ms: number, tags?: Tags): void;
  gauge(name: string, value: number, tags?: Tags): void;
  /** Sends what is queued and closes the socket. */
  close(): Promise<void>;
}

const MAX_PACKET_BYTES = 1432;

/** Characters with a meaning in the line format (`,` `=` `:` `|`, whitespace) become `_`. */
function clean(value: string | number): string {
  return String(value).replace(/[,=:|\s]/g, '_');
}

/** One StatsD line: `<prefix>.<name>,k=v,…:<value>|<type>`. */
export function statsdLine(prefix: string, name: string, tags: Tags, value: number, type: 'c' | 'ms' | 'g'): string {
  const tagText = Object.entries(tags)
    .map(([k, v]) => `,${clean(k)}=${clean(v)}`)
    .join('');
  return `${prefix}.${name}${tagText}:${Number.isInteger(value) ? value : value.toFixed(3)}|${type}`;
}

/** Lines joined into packets of at most `max` bytes each. */
export function packets(lines: readonly string[], max = MAX_PACKET_BYTES): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of lines) {
    if (current !== '' && Buffer.byteLength(current) + 1 + Buffer.byteLength(line) > max) {
      out.push(current);
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') out.push(current);
  return out;
}

export function createStatsd(config: StatsdConfig, logger: Logger): Statsd {
  const log = logger.child({ component: 'statsd' });
  const socket: Socket = createSocket(config.host.includes(':') ? 'udp6' : 'udp4');
  socket.unref();
  let failed = false;
  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    log.warn({ err, host: config.host, port: config.port }, 'StatsD metrics cannot be sent; further failures are not logged');
  };
  socket.on('error', fail);
  // Resolved once, so that every packet does not cost a DNS lookup.
  const address = lookup(config.host).then(
    (a) => a.address,
    (err: unknown) => {
      fail(err);
      return undefined;
    },
  );
  let queue: string[] = [];
  let scheduled = false;
  let closed = false;

  async function flush(): Promise<void> {
    scheduled = false;
    const lines = queue;
    queue = [];
    const to = await address;
    if (to === undefined || lines.length === 0) return;
    await Promise.all(
      packets(lines).map(
        (p) =>
          new Promise<void>((resolve) => {
            socket.send(p, config.port, to, (err) => {
              if (err) fail(err);
              resolve();
            });
          }),
      ),
    );
  }

  function push(line: string): void {
    if (closed) return;
    queue.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => void flush());
    }
  }

  return {
    count: (name, tags = {}) => push(statsdLine(config.prefix, name, tags, 1, 'c')),
    timing: (name, ms, tags = {}) => push(statsdLine(config.prefix, name, tags, ms, 'ms')),
    gauge: (name, value, tags = {}) => push(statsdLine(config.prefix, name, tags, value, 'g')),
    async close() {
      if (closed) return;
      await flush();
      closed = true;
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
