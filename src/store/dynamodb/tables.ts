import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
  type CreateGlobalSecondaryIndexAction,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { errorName, translateError } from './errors.js';
import { ATTR, OUTBOX_INDEX } from './layout.js';

/**
 * Table management: the table layout of the old service plus the sparse outbox index, created
 * on demand (`feature-store tables create`, or `DYNAMODB_CREATE_TABLES=true` at start) and
 * inspected by health checks.
 */
export interface TableSpec {
  /** Entity type; also the name of the table's partition key attribute. */
  entityType: string;
  table: string;
}

export function tableSpecs(entityTables: Readonly<Record<string, string>>): TableSpec[] {
  return Object.entries(entityTables).map(([entityType, table]) => ({ entityType, table }));
}

export type TableAction = 'created' | 'exists' | 'added index';

export interface TableResult {
  table: string;
  action: TableAction;
  /** Status of the outbox index afterwards (`ACTIVE`, or `CREATING` while DynamoDB backfills). */
  indexStatus: string;
}

export interface TableState {
  table: string;
  /** The table exists and serves requests (ACTIVE or UPDATING). */
  available: boolean;
  hasOutboxIndex: boolean;
  /** Why the table could not be checked (not for a table that simply does not exist). */
  error?: string;
}

const POLL_MS = 100;

function outboxIndex(): CreateGlobalSecondaryIndexAction {
  return {
    IndexName: OUTBOX_INDEX,
    KeySchema: [
      { AttributeName: ATTR.shard, KeyType: 'HASH' },
      { AttributeName: ATTR.at, KeyType: 'RANGE' },
    ],
    // Keys of the base table come along; count and lease let `claim` and `stats` work from the
    // index alone.
    Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [ATTR.count, ATTR.leaseUntil] },
  };
}

const INDEX_ATTRIBUTES = [
  { AttributeName: ATTR.shard, AttributeType: 'S' as const },
  { AttributeName: ATTR.at, AttributeType: 'S' as const },
];

async function describe(client: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    const res = await client.send(new DescribeTableCommand({ TableName: table }));
    return res.Table;
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return undefined;
    throw translateError(err, table);
  }
}

function indexOf(description: TableDescription | undefined) {
  return description?.GlobalSecondaryIndexes?.find((i) => i.IndexName === OUTBOX_INDEX);
}

function isServing(description: TableDescription | undefined): boolean {
  return description?.TableStatus === 'ACTIVE' || description?.TableStatus === 'UPDATING';
}

/** One DescribeTable per table, in parallel. Never rejects. */
export async function describeTables(client: DynamoDBClient, specs: readonly TableSpec[]): Promise<TableState[]> {
  return Promise.all(
    specs.map(async ({ table }): Promise<TableState> => {
      try {
        const description = await describe(client, table);
        return { table, available: isServing(description), hasOutboxIndex: indexOf(description) !== undefined };
      } catch (err) {
        const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
        return { table, available: false, hasOutboxIndex: false, error: `${err instanceof Error ? err.message : String(err)}${cause}` };
      }
    }),
  );
}

function checkKeySchema(spec: TableSpec, description: TableDescription): void {
  const keys = description.KeySchema ?? [];
  const hash = keys.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const range = keys.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  if (hash !== spec.entityType || range !== ATTR.category) {
    throw new Error(
      `DynamoDB table '${spec.table}' has key (${hash ?? '-'}, ${range ?? '-'}); entity type '${spec.entityType}' needs (${spec.entityType}, ${ATTR.category})`,
    );
  }
}

async function waitFor(
  client: DynamoDBClient,
  table: string,
  done: (d: TableDescription | undefined) => boolean,
  timeoutMs: number,
): Promise<TableDescription | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const description = await describe(client, table);
    if (done(description)) return description;
    if (Date.now() > deadline) {
      throw new Error(`DynamoDB table '${table}' did not become ready within ${timeoutMs} ms (status ${description?.TableStatus ?? 'missing'})`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function createTable(client: DynamoDBClient, spec: TableSpec): Promise<boolean> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: spec.table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: spec.entityType, AttributeType: 'S' },
          { AttributeName: ATTR.category, AttributeType: 'S' },
          ...INDEX_ATTRIBUTES,
        ],
        KeySchema: [
          { AttributeName: spec.entityType, KeyType: 'HASH' },
          { AttributeName: ATTR.category, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [outboxIndex()],
      }),
    );
    return true;
  } catch (err) {
    // Someone else created it meanwhile.
    if (errorName(err) === 'ResourceInUseException') return false;
    throw translateError(err, spec.table);
  }
}

async function addIndex(client: DynamoDBClient, spec: TableSpec, description: TableDescription): Promise<void> {
  const index = outboxIndex();
  if (description.BillingModeSummary?.BillingMode !== 'PAY_PER_REQUEST') {
    // A provisioned index that throttles also throttles writes to its table: give it the
    // table's own capacity.
    const read = description.ProvisionedThroughput?.ReadCapacityUnits ?? 5;
    const write = description.ProvisionedThroughput?.WriteCapacityUnits ?? 5;
    index.ProvisionedThroughput = { ReadCapacityUnits: Math.max(1, read), WriteCapacityUnits: Math.max(1, write) };
  }
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: spec.table,
        AttributeDefinitions: INDEX_ATTRIBUTES,
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
  } catch (err) {
    const translated = translateError(err, spec.table);
    if (translated !== err || !(err instanceof Error)) throw translated;
    // dynalite, for one, refuses the request for on-demand tables.
    throw new Error(`Could not add index '${OUTBOX_INDEX}' to DynamoDB table '${spec.table}': ${err.message}`, { cause: err });
  }
}

/**
 * Creates each missing table (on-demand capacity, with the outbox index) and adds the outbox
 * index to existing tables that lack it; waits until each table serves requests. Idempotent.
 * Refuses a table whose key schema is not the one this service reads.
 */
export async function ensureTables(
  client: DynamoDBClient,
  specs: readonly TableSpec[],
  options: { timeoutMs?: number } = {},
): Promise<TableResult[]> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const results: TableResult[] = [];
  for (const spec of specs) {
    let action: TableAction = 'exists';
    let description = await describe(client, spec.table);
    if (description === undefined && (await createTable(client, spec))) action = 'created';
    description = await waitFor(client, spec.table, isServing, timeoutMs);
    if (description === undefined) throw new Error(`DynamoDB table '${spec.table}' disappeared`);
    checkKeySchema(spec, description);
    if (indexOf(description) === undefined) {
      await addIndex(client, spec, description);
      description = await waitFor(client, spec.table, isServing, timeoutMs);
      if (indexOf(description) === undefined) {
        throw new Error(
          `DynamoDB accepted adding index '${OUTBOX_INDEX}' to '${spec.table}' but does not list it ` +
            '(dynalite cannot add indexes to existing tables: recreate the table instead)',
        );
      }
      action = 'added index';
    }
    results.push({ table: spec.table, action, indexStatus: indexOf(description)?.IndexStatus ?? 'UNKNOWN' });
  }
  return results;
}
