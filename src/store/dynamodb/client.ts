import http from 'node:http';
import https from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../../config.js';
import { ConfigError } from '../../errors.js';

export interface DynamoDbClients {
  /** Low-level client: table management, and raw attribute values where they matter. */
  raw: DynamoDBClient;
  /** Document client: plain objects in and out; numbers come back as JavaScript numbers. */
  doc: DynamoDBDocumentClient;
}

/**
 * Clients configured from `config.dynamodb`. Region and credentials come from the standard AWS
 * chain (environment, shared config files, container/instance roles) unless the region is set
 * in config. Connections are kept alive: a fresh TLS handshake per request would cost more than
 * the request itself.
 */
export function createDynamoDbClients(settings: Config['dynamodb']): DynamoDbClients {
  const agent = { keepAlive: true, maxSockets: settings.maxSockets };
  const raw = new DynamoDBClient({
    ...(settings.region === undefined ? {} : { region: settings.region }),
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    // Standard retry mode: throttling and transient errors are retried with backoff, up to
    // `maxAttempts` in total, before the store answers 503.
    maxAttempts: settings.maxAttempts,
    requestHandler: {
      httpAgent: new http.Agent(agent),
      httpsAgent: new https.Agent(agent),
      connectionTimeout: Math.min(settings.timeoutMs, 1000),
      requestTimeout: settings.timeoutMs,
      throwOnRequestTimeout: true,
    },
  });
  const doc = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    // Every N as a JavaScript number. Values this service writes are exact doubles; a legacy
    // value with more precision than a double becomes the nearest double (the old service
    // returned floats too) instead of a BigInt that JSON cannot serialize.
    unmarshallOptions: { wrapNumbers: (text: string) => Number(text) },
  });
  return { raw, doc };
}

/** Fails start-up with a clear message when no region can be resolved. */
export async function assertRegion(raw: DynamoDBClient): Promise<void> {
  try {
    await raw.config.region();
  } catch {
    throw new ConfigError('AWS_REGION is not set and no region is configured for the AWS SDK (STORE=dynamodb needs one)');
  }
}
