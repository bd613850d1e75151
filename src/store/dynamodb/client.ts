import http from 'node:http';
import https from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { ConnectionPool } from './connection-pool.js';
import { DirectTransport, type RecordTransport } from './direct-transport.js';

/** Below the idle timeouts of common load balancers and proxies (60 s and more). */
const IDLE_SOCKET_MS = 15_000;

export interface DynamoDbClients {
  /** Low-level client: table management, and raw attribute values where they matter. */
  raw: DynamoDBClient;
  /** Document client: plain objects in and out; numbers come back as JavaScript numbers. */
  doc: DynamoDBDocumentClient;
  /**
   * The hot path's transport (record reads and writes, fast-io.ts): the raw client's
   * credentials, signer and retry strategy, the same keep-alive connections, no middleware
   * stack (direct-transport.ts).
   */
  records: RecordTransport;
  /** The record path's own keep-alive connections to http endpoints (connection-pool.ts). */
  pool: ConnectionPool;
}

/**
 * Clients configured from `config.dynamodb`. Region and credentials come from the standard AWS
 * chain (environment, shared config files, container/instance roles) unless the region is set
 * in config. Connections are kept alive: a fresh TLS handshake per request would cost more than
 * the request itself.
 */
export function createDynamoDbClients(settings: Config['dynamodb']): DynamoDbClients {
  // An idle keep-alive connection is closed by this side before the server closes it: a request
  // written as the server closes an idle connection fails with a reset, and a write that fails
  // so is not sent again (direct-transport.ts). `timeout` bounds the idle time and makes Node
  // honour a server's `Keep-Alive: timeout=N` one second early (it ignores the hint without it).
  const agent = { keepAlive: true, maxSockets: settings.maxSockets, timeout: IDLE_SOCKET_MS };
  const httpAgent = new http.Agent(agent);
  const httpsAgent = new https.Agent(agent);
  const config = {
    ...(settings.region === undefined ? {} : { region: settings.region }),
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    // Standard retry mode: throttling and transient errors are retried with backoff, up to
    // `maxAttempts` in total, before the store answers 503.
    maxAttempts: settings.maxAttempts,
    requestHandler: {
      httpAgent,
      httpsAgent,
      connectionTimeout: Math.min(settings.timeoutMs, 1000),
      requestTimeout: settings.timeoutMs,
      throwOnRequestTimeout: true,
    },
  };
  const raw = new DynamoDBClient(config);
  const doc = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    // Every N as a JavaScript number. Values this service writes are exact doubles; a legacy
    // value with more precision than a double becomes the nearest double (the old service
    // returned floats too) instead of a BigInt that JSON cannot serialize.
    unmarshallOptions: { wrapNumbers: (text: string) => Number(text) },
  });
  // A client of its own for the record path, as before: its retry strategy (and the standard
  // mode's retry quota) is not shared with the document client's table-wide and relay requests.
  // Its connections are its own (the lean client, http-exchange.ts), as many again as the agents allow.
  const pool = new ConnectionPool(settings.maxSockets, IDLE_SOCKET_MS);
  const records = new DirectTransport(new DynamoDBClient(config), { pool, timeoutMs: settings.timeoutMs });
  return { raw, doc, records, pool };
}

/** Closes every client of `clients` (they share their connections). */
export function destroyClients(clients: DynamoDbClients): void {
  clients.raw.destroy();
  clients.pool.close();
}

/** Fails start-up with a clear message when no region can be resolved. */
export async function assertRegion(raw: DynamoDBClient): Promise<void> {
  try {
    await raw.config.region();
  } catch {
    throw new ConfigError('AWS_REGION is not set and no region is configured for the AWS SDK (STORE=dynamodb needs one)');
  }
}
