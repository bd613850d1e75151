import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../src/config.js';
import { createDynamoDbTables } from '../../src/store/dynamodb-store.js';
import { TEST_ENV, type BackendInstance, type LegacyRecord, type TestBackend } from './backend.js';
import { startDynalite, type DynaliteServer, type RequestLog } from './dynalite.js';

/**
 * DynamoDB for tests: by default a fresh in-process dynalite per instance (own port, own
 * tables, own request log). With `DYNAMODB_TEST_ENDPOINT` set (e.g. a `moto_server` started by
 * hand), instances share that server and get their own table names instead.
 */
export interface DynamoDbInstance extends BackendInstance {
  endpoint: string;
  /** Entity type → table. */
  tables: Record<string, string>;
  /** A low-level client on the same endpoint, for writing and inspecting raw items. */
  raw: DynamoDBClient;
  /** Requests the server received (dynalite only). */
  requests: RequestLog | undefined;
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
  options: { createTables?: boolean; env?: Record<string, string>; forceDynalite?: boolean } = {},
): Promise<DynamoDbInstance> {
  localAwsEnvironment();
  const external = options.forceDynalite ? undefined : process.env.DYNAMODB_TEST_ENDPOINT;
  const server: DynaliteServer | undefined = external === undefined ? await startDynalite() : undefined;
  const endpoint = external ?? (server as DynaliteServer).endpoint;
  const prefix = external === undefined ? '' : `t${randomBytes(4).toString('hex')}_`;
  const env: Record<string, string> = {
    STORE: 'dynamodb',
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: REGION,
    ...(prefix === ''
      ? {}
      : { TABLE_NAME_BRIGHT_UID: `${prefix}user_feature_store`, TABLE_NAME_ACCOUNT_PID: `${prefix}account_feature_store` }),
    ...options.env,
  };
  const config = loadConfig({ ...TEST_ENV, ...env });
  const tables = { ...config.entityTables };
  if (options.createTables !== false) await createDynamoDbTables(config);
  const raw = new DynamoDBClient({ endpoint, region: REGION, maxAttempts: 1 });
  return {
    env,
    endpoint,
    tables,
    raw,
    requests: server?.requests,
    async insertLegacy(record) {
      const table = tables[record.entityType];
      if (table === undefined) throw new Error(`no table for entity type ${record.entityType}`);
      await raw.send(new PutItemCommand({ TableName: table, Item: legacyItem(record) }));
    },
    async teardown() {
      if (server !== undefined) {
        raw.destroy();
        await server.stop();
        return;
      }
      for (const table of Object.values(tables)) {
        await raw.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
      }
      raw.destroy();
    },
  };
}

export const dynamodbBackend: TestBackend = {
  name: 'dynamodb',
  setup: () => startDynamoDbInstance(),
};
