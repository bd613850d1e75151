import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../src/config.js';
import { createDynamoDbTables } from '../../src/store/dynamodb/index.js';
import { TEST_ENV, type BackendInstance, type LegacyRecord, type TestBackend } from './backend.js';
import { startDynalite } from './dynalite.js';
import { motoEndpoint, startCountingProxy } from './moto.js';
import type { RequestLog } from './request-log.js';

/**
 * DynamoDB for tests, on one of two independent implementations of its wire protocol:
 * - `moto` (moto_server, see moto.ts): transactions and Streams, so every feature, events
 *   included. Instances share one server and get their own table names; requests pass through
 *   a counting proxy.
 * - `dynalite` (in-process, one per instance): no transactions, so only the paths without
 *   events (what an operator running with `KAFKA_BROKERS` unset uses).
 */
export type DynamoDbServerKind = 'moto' | 'dynalite';

export interface DynamoDbInstance extends BackendInstance {
  endpoint: string;
  /** Entity type → table. */
  tables: Record<string, string>;
  /** A low-level client on the same endpoint, for writing and inspecting raw items. */
  raw: DynamoDBClient;
  /** Requests the server received, by operation. */
  requests: RequestLog;
  /** Outbox table of this instance. */
  outboxTable: string;
  /** Versions table of this instance. */
  versionsTable: string;
}

const REGION = 'us-east-1';

/** Dummy credentials and region for a local server, unless the environment has its own. */
function localAwsEnvironment(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
}

/** JSON → attribute values the way the old Python service (boto3) stored them: numbers as N. */
export function legacyValue(value: unknown): AttributeValue {
  if (value === null || value === undefined) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(legacyValue) };
  return { M: Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, legacyValue(v)])) };
}

export function legacyItem(r: LegacyRecord): Record<string, AttributeValue> {
  return {
    [r.entityType]: { S: r.entityValue },
    category: { S: r.category },
    features: {
      M: {
        data: legacyValue(r.data),
        meta: {
          M: {
            created_at: { S: r.createdAt },
            updated_at: { S: r.updatedAt },
            compute_id: r.computeId === null ? { NULL: true } : { S: r.computeId },
          },
        },
      },
    },
  };
}

export async function startDynamoDbInstance(
  options: { server?: DynamoDbServerKind; createTables?: boolean; env?: Record<string, string> } = {},
): Promise<DynamoDbInstance> {
  localAwsEnvironment();
  const kind = options.server ?? 'moto';
  let endpoint: string;
  let requests: RequestLog;
  let stopServer: () => Promise<void>;
  if (kind === 'dynalite') {
    const server = await startDynalite();
    ({ endpoint, requests } = server);
    stopServer = () => server.stop();
  } else {
    const proxy = await startCountingProxy(await motoEndpoint());
    ({ endpoint, requests } = proxy);
    stopServer = () => proxy.stop();
  }
  const prefix = `t${randomBytes(4).toString('hex')}_`;
  const env: Record<string, string> = {
    STORE: 'dynamodb',
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: REGION,
    TABLE_NAME_BRIGHT_UID: `${prefix}user_feature_store`,
    TABLE_NAME_ACCOUNT_PID: `${prefix}account_feature_store`,
    DYNAMODB_OUTBOX_TABLE: `${prefix}feature_store_outbox`,
    DYNAMODB_VERSIONS_TABLE: `${prefix}feature_store_versions`,
    // Versions ride in the write's TransactWriteItems, which dynalite does not have.
    ...(kind === 'dynalite' ? { VERSIONS_KEPT: '0' } : {}),
    // moto serves one request at a time for every test of the process (moto-server.py), so a
    // request waits behind all those before it: 50 concurrent writes on a loaded machine wait
    // longer than the 3 s meant for DynamoDB, and a write that timed out is not sent again
    // (direct-transport.ts). Tests of time limits set their own.
    ...(kind === 'moto' ? { DYNAMODB_TIMEOUT_MS: '20000' } : {}),
    ...options.env,
  };
  const config = loadConfig({ ...TEST_ENV, ...env });
  const tables = { ...config.entityTables };
  const outboxTable = config.dynamodb.outboxTable;
  const versionsTable = config.dynamodb.versionsTable;
  if (options.createTables !== false) await createDynamoDbTables(config);
  const raw = new DynamoDBClient({ endpoint, region: REGION, maxAttempts: 1 });
  return {
    env,
    endpoint,
    tables,
    outboxTable,
    versionsTable,
    raw,
    requests,
    async insertLegacy(record) {
      const table = tables[record.entityType];
      if (table === undefined) throw new Error(`no table for entity type ${record.entityType}`);
      await raw.send(new PutItemCommand({ TableName: table, Item: legacyItem(record) }));
    },
    async teardown() {
      if (kind === 'moto') {
        for (const table of [...Object.values(tables), outboxTable, versionsTable]) {
          await raw.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
        }
      }
      raw.destroy();
      await stopServer();
    },
  };
}

export const dynamodbMotoBackend: TestBackend = {
  name: 'dynamodb (moto)',
  type: 'dynamodb',
  events: true,
  versions: true,
  setup: () => startDynamoDbInstance({ server: 'moto' }),
};

export const dynamodbDynaliteBackend: TestBackend = {
  name: 'dynamodb (dynalite)',
  type: 'dynamodb',
  events: false,
  versions: false,
  setup: () => startDynamoDbInstance({ server: 'dynalite' }),
};
