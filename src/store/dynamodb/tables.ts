import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  UpdateTableCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { computeIdIndex, LINEAGE_ATTR } from './by-compute-id.js';
import { JOB_ATTR, jobIndex } from './compute-jobs.js';
import { errorName, translateError } from './errors.js';
import { ATTR } from './layout.js';
import { OUTBOX_ATTR, OUTBOX_INDEX } from './outbox-item.js';
import { VERSIONS_ATTR } from './versions.js';

/**
 * Table management, created on demand (`feature-store tables create`, or
 * `DYNAMODB_CREATE_TABLES=true` at start) and inspected by health checks:
 * - one record table per entity type, the old service's key schema (`<entity type>`,
 *   `category`), so both services can share them, plus the `by_compute_id` index
 *   (by-compute-id.ts), which `tables create` also adds to an existing table (the old service's
 *   tables included; it does not affect their items or the old service);
 * - the outbox table (`DYNAMODB_OUTBOX_TABLE`) with its `outbox_pending` index, and the
 *   `compute_jobs_by_last_write` index over the job statistics it also holds (compute-jobs.ts),
 *   which `tables create` adds to an outbox table created before it;
 * - the versions table (`DYNAMODB_VERSIONS_TABLE`, key `pk`, `sk`): earlier versions of records
 *   (versions.ts) and rollback states (rollbacks.ts), with native TTL on `expires_at` when
 *   `CATEGORY_TTL` is set.
 * Record tables created by an earlier version of this service may carry an `outbox_pending`
 * index of their own; it is no longer used and may be deleted once no item has pending
 * in-item events (see docs/decisions/1-dynamodb-outbox.md).
 */
export interface TableSpec {
  /** Entity type; also the name of the table's partition key attribute. */
  entityType: string;
  table: string;
}

export function tableSpecs(entityTables: Readonly<Record<string, string>>): TableSpec[] {
  return Object.entries(entityTables).map(([entityType, table]) => ({ entityType, table }));
}

/** `index added`: the table existed and the `by_compute_id` index build was started on it. */
export type TableAction = 'created' | 'exists' | 'index added';

export interface TableResult {
  table: string;
  kind: 'records' | 'outbox' | 'versions';
  action: TableAction;
  /** Record tables when `CATEGORY_TTL` is set: native TTL on `expires_at` turned on now, or already on. */
  ttl?: 'enabled' | 'exists';
}

export interface TableState {
  table: string;
  kind: 'records' | 'outbox' | 'versions';
  /** The table exists and serves requests (ACTIVE or UPDATING). */
  available: boolean;
  /** For the outbox table: its index exists. */
  hasOutboxIndex: boolean;
  /** Why the table could not be checked (not for a table that simply does not exist). */
  error?: string;
}

const POLL_MS = 100;

function recordTableInput(spec: TableSpec): CreateTableCommandInput {
  return {
    TableName: spec.table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: spec.entityType, AttributeType: 'S' },
      { AttributeName: ATTR.category, AttributeType: 'S' },
      { AttributeName: LINEAGE_ATTR.computeId, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: spec.entityType, KeyType: 'HASH' },
      { AttributeName: ATTR.category, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [computeIdIndex()],
  };
}

/**
 * Starts building the `by_compute_id` index on an existing record table (on-demand tables need
 * no capacity for it). DynamoDB backfills it from the existing items in the background; this
 * does not wait for that (it can take long on a large table): the by-compute-id endpoint answers
 * 503 until the index is ACTIVE. False when the index exists already (or is being built).
 */
async function addComputeIdIndex(client: DynamoDBClient, table: string, description: TableDescription): Promise<boolean> {
  return addIndex(client, table, description, computeIdIndex(), [LINEAGE_ATTR.computeId, ATTR.category]);
}

/** Starts building `index` (keyed by the string attributes `keys`) on `table` unless it has it. */
async function addIndex(client: DynamoDBClient, table: string, description: TableDescription, index: GlobalSecondaryIndex, keys: string[]): Promise<boolean> {
  if (description.GlobalSecondaryIndexes?.some((i) => i.IndexName === index.IndexName) ?? false) return false;
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: table,
        AttributeDefinitions: keys.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
    return true;
  } catch (err) {
    // Another `tables create` started it meanwhile.
    if (errorName(err) === 'ResourceInUseException' && /index/i.test(err instanceof Error ? err.message : '')) return false;
    throw translateError(err, table);
  }
}

function outboxTableInput(table: string): CreateTableCommandInput {
  const attributes: AttributeDefinition[] = [OUTBOX_ATTR.entityValue, OUTBOX_ATTR.record, OUTBOX_ATTR.shard, OUTBOX_ATTR.at, JOB_ATTR.list, JOB_ATTR.lastWriteAt].map(
    (name) => ({ AttributeName: name, AttributeType: 'S' }),
  );
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributes,
    KeySchema: [
      { AttributeName: OUTBOX_ATTR.entityValue, KeyType: 'HASH' },
      { AttributeName: OUTBOX_ATTR.record, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: OUTBOX_INDEX,
        KeySchema: [
          { AttributeName: OUTBOX_ATTR.shard, KeyType: 'HASH' },
          { AttributeName: OUTBOX_ATTR.at, KeyType: 'RANGE' },
        ],
        // Keys of the base table come along; count and lease let `claim` and `stats` work from
        // the index alone.
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [OUTBOX_ATTR.count, OUTBOX_ATTR.leaseUntil] },
      },
      jobIndex(),
    ],
  };
}

function versionsTableInput(table: string): CreateTableCommandInput {
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: VERSIONS_ATTR.pk, AttributeType: 'S' },
      { AttributeName: VERSIONS_ATTR.sk, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: VERSIONS_ATTR.pk, KeyType: 'HASH' },
      { AttributeName: VERSIONS_ATTR.sk, KeyType: 'RANGE' },
    ],
  };
}

async function describe(client: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    const res = await client.send(new DescribeTableCommand({ TableName: table }));
    return res.Table;
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return undefined;
    throw translateError(err, table);
  }
}

function hasOutboxIndex(description: TableDescription | undefined): boolean {
  return description?.GlobalSecondaryIndexes?.some((i) => i.IndexName === OUTBOX_INDEX) ?? false;
}

function isServing(description: TableDescription | undefined): boolean {
  return description?.TableStatus === 'ACTIVE' || description?.TableStatus === 'UPDATING';
}

/** One DescribeTable per record table and for the outbox table, in parallel. Never rejects. */
export async function describeTables(client: DynamoDBClient, specs: readonly TableSpec[], outboxTable: string, versionsTable?: string): Promise<TableState[]> {
  const all: { table: string; kind: TableState['kind'] }[] = [...specs.map((s) => ({ table: s.table, kind: 'records' as const })), { table: outboxTable, kind: 'outbox' as const }];
  if (versionsTable !== undefined) all.push({ table: versionsTable, kind: 'versions' });
  return Promise.all(
    all.map(async ({ table, kind }): Promise<TableState> => {
      try {
        const description = await describe(client, table);
        return { table, kind, available: isServing(description), hasOutboxIndex: hasOutboxIndex(description) };
      } catch (err) {
        const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
        return { table, kind, available: false, hasOutboxIndex: false, error: `${err instanceof Error ? err.message : String(err)}${cause}` };
      }
    }),
  );
}

function checkKeySchema(table: string, description: TableDescription, hash: string, range: string): void {
  const keys = description.KeySchema ?? [];
  const h = keys.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const r = keys.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  if (h !== hash || r !== range) {
    throw new Error(`DynamoDB table '${table}' has key (${h ?? '-'}, ${r ?? '-'}); this service needs (${hash}, ${range})`);
  }
}

async function waitServing(client: DynamoDBClient, table: string, timeoutMs: number): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const description = await describe(client, table);
    if (description !== undefined && isServing(description)) return description;
    if (Date.now() > deadline) {
      throw new Error(`DynamoDB table '${table}' did not become ready within ${timeoutMs} ms (status ${description?.TableStatus ?? 'missing'})`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Turns on the table's native TTL on `expires_at` unless it is on already. A table whose TTL is
 * on another attribute is refused: a table has one TTL attribute, and changing it is the
 * operator's decision (the old service's items may rely on it).
 */
async function ensureTtl(client: DynamoDBClient, table: string): Promise<'enabled' | 'exists'> {
  try {
    const current = (await client.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription;
    const status = current?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') {
      if (current?.AttributeName === ATTR.expiresAt) return 'exists';
      throw new Error(
        `DynamoDB table '${table}' has TTL on '${current?.AttributeName ?? '?'}'; CATEGORY_TTL needs it on '${ATTR.expiresAt}' (change it with UpdateTimeToLive)`,
      );
    }
    await client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { Enabled: true, AttributeName: ATTR.expiresAt } }));
    return 'enabled';
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('DynamoDB table')) throw err;
    throw translateError(err, table);
  }
}

/** Creates the table unless it exists; false when it existed (or someone created it meanwhile). */
async function createIfMissing(client: DynamoDBClient, input: CreateTableCommandInput): Promise<boolean> {
  const table = input.TableName ?? '';
  if ((await describe(client, table)) !== undefined) return false;
  try {
    await client.send(new CreateTableCommand(input));
    return true;
  } catch (err) {
    if (errorName(err) === 'ResourceInUseException') return false;
    throw translateError(err, table);
  }
}

/**
 * Creates each missing record table and the outbox table (on-demand capacity) and waits until
 * each serves requests; adds the `by_compute_id` index to record tables that lack it. Idempotent.
 * Refuses a table whose key schema is not the expected one, and an outbox table without its index.
 */
export async function ensureTables(
  client: DynamoDBClient,
  specs: readonly TableSpec[],
  outboxTable: string,
  options: { timeoutMs?: number; ttl?: boolean; versionsTable?: string } = {},
): Promise<TableResult[]> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const results: TableResult[] = [];
  for (const spec of specs) {
    const created = await createIfMissing(client, recordTableInput(spec));
    const description = await waitServing(client, spec.table, timeoutMs);
    checkKeySchema(spec.table, description, spec.entityType, ATTR.category);
    const indexAdded = !created && (await addComputeIdIndex(client, spec.table, description));
    const result: TableResult = { table: spec.table, kind: 'records', action: created ? 'created' : indexAdded ? 'index added' : 'exists' };
    if (options.ttl === true) result.ttl = await ensureTtl(client, spec.table);
    results.push(result);
  }
  const created = await createIfMissing(client, outboxTableInput(outboxTable));
  const description = await waitServing(client, outboxTable, timeoutMs);
  checkKeySchema(outboxTable, description, OUTBOX_ATTR.entityValue, OUTBOX_ATTR.record);
  if (!hasOutboxIndex(description)) {
    throw new Error(`DynamoDB table '${outboxTable}' has no index '${OUTBOX_INDEX}'; delete the (empty) table and run \`feature-store tables create\` again`);
  }
  const jobIndexAdded = !created && (await addIndex(client, outboxTable, description, jobIndex(), [JOB_ATTR.list, JOB_ATTR.lastWriteAt]));
  results.push({ table: outboxTable, kind: 'outbox', action: created ? 'created' : jobIndexAdded ? 'index added' : 'exists' });
  if (options.versionsTable !== undefined) {
    const table = options.versionsTable;
    const versionsCreated = await createIfMissing(client, versionsTableInput(table));
    checkKeySchema(table, await waitServing(client, table, timeoutMs), VERSIONS_ATTR.pk, VERSIONS_ATTR.sk);
    const result: TableResult = { table, kind: 'versions', action: versionsCreated ? 'created' : 'exists' };
    if (options.ttl === true) result.ttl = await ensureTtl(client, table);
    results.push(result);
  }
  return results;
}
