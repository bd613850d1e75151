/**
 * The DynamoDB backend (`STORE=dynamodb`): the old service's record tables plus an outbox table
 * (docs/decisions/1-dynamodb-outbox.md). `createDynamoDbStore` opens it, `createDynamoDbTables`
 * is `feature-store tables create`.
 */
import type { Config } from '../../config.js';
import { maxVersionsKept } from '../../config-sections.js';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { backfillLineage, type BackfillOptions, type BackfillProgress } from './backfill.js';
import { assertRegion, createDynamoDbClients, destroyClients } from './client.js';
import { utf8Length } from './item-size.js';
import { LINEAGE_ATTR } from './by-compute-id.js';
import { HISTORY_PREFIX } from './history.js';
import { LAYOUT_ATTRIBUTES, MAX_SORT_KEY_BYTES } from './layout.js';
import { DynamoDbStore } from './records.js';
import { ensureTables, tableSpecs, type TableResult } from './tables.js';

export { DynamoDbStore } from './records.js';
export type { BackfillOptions, BackfillProgress } from './backfill.js';
export type { TableResult } from './tables.js';

function checkNames(config: Config): void {
  const tables = new Map<string, string>();
  for (const [type, table] of Object.entries(config.entityTables)) {
    if (LAYOUT_ATTRIBUTES.includes(type) || Object.values<string>(LINEAGE_ATTR).includes(type)) {
      throw new ConfigError(`ENTITY_TYPES: '${type}' is an attribute name of the DynamoDB item layout`);
    }
    if (type.startsWith(HISTORY_PREFIX)) {
      throw new ConfigError(`ENTITY_TYPES: '${type}' starts with '${HISTORY_PREFIX}', the compute history attributes of the DynamoDB item layout`);
    }
    tables.set(table, type);
  }
  const versionsOwner = tables.get(config.dynamodb.versionsTable);
  if (versionsOwner !== undefined) {
    throw new ConfigError(`DYNAMODB_VERSIONS_TABLE: '${config.dynamodb.versionsTable}' is the record table of entity type '${versionsOwner}'`);
  }
  const outboxOwner = tables.get(config.dynamodb.outboxTable);
  if (outboxOwner !== undefined) {
    throw new ConfigError(`DYNAMODB_OUTBOX_TABLE: '${config.dynamodb.outboxTable}' is the record table of entity type '${outboxOwner}'`);
  }
  for (const category of config.categories) {
    if (utf8Length(category) > MAX_SORT_KEY_BYTES) {
      throw new ConfigError(`CATEGORY_WHITELIST: '${category}' is longer than ${MAX_SORT_KEY_BYTES} bytes (DynamoDB's sort key limit)`);
    }
  }
}

/** The `STORE=dynamodb` factory: validates names, builds clients, optionally creates tables. */
export async function createDynamoDbStore(config: Config, logger: Logger): Promise<DynamoDbStore> {
  checkNames(config);
  const clients = createDynamoDbClients(config.dynamodb);
  const specs = tableSpecs(config.entityTables);
  try {
    await assertRegion(clients.raw);
    if (config.dynamodb.createTables) {
      for (const r of await ensureTables(clients.raw, specs, config.dynamodb.outboxTable, { ttl: hasTtl(config), versionsTable: config.dynamodb.versionsTable })) {
        logger.info({ table: r.table, kind: r.kind, action: r.action, ttl: r.ttl }, 'DynamoDB table ready');
      }
    }
  } catch (err) {
    destroyClients(clients);
    throw err;
  }
  return new DynamoDbStore({
    clients,
    specs,
    outboxTable: config.dynamodb.outboxTable,
    versionsTable: config.dynamodb.versionsTable,
    requireVersions: maxVersionsKept(config.versions) > 0,
    consistentRead: config.dynamodb.consistentRead,
    requireOutbox: config.kafka !== undefined,
    writeOrderBytes: config.dynamodb.writeOrderCacheMb * 1024 * 1024,
  });
}

/** `feature-store tables create`: creates what is missing, reports per table what it did. */
export async function createDynamoDbTables(config: Config, options: { timeoutMs?: number } = {}): Promise<TableResult[]> {
  checkNames(config);
  const clients = createDynamoDbClients(config.dynamodb);
  try {
    await assertRegion(clients.raw);
    return await ensureTables(clients.raw, tableSpecs(config.entityTables), config.dynamodb.outboxTable, {
      ...options,
      ttl: hasTtl(config),
      versionsTable: config.dynamodb.versionsTable,
    });
  } finally {
    destroyClients(clients);
  }
}

/** Whether any category has a TTL, so that the record tables need their native TTL on. */
function hasTtl(config: Config): boolean {
  return Object.keys(config.categoryTtlMs).length > 0;
}

/** `feature-store lineage backfill` (backfill.ts): indexes the record tables' older items. */
export async function backfillLineageIndex(config: Config, options: BackfillOptions): Promise<BackfillProgress[]> {
  checkNames(config);
  const clients = createDynamoDbClients(config.dynamodb);
  try {
    await assertRegion(clients.raw);
    return await backfillLineage(clients.doc, tableSpecs(config.entityTables), options);
  } finally {
    destroyClients(clients);
  }
}
