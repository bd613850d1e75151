/**
 * The DynamoDB backend (`STORE=dynamodb`), reading and writing the old service's tables as they
 * are (layout in dynamodb-layout.ts).
 *
 * Writes — no read before write, `created_at` race-free:
 * 1. UpdateItem `SET features.data, features.meta.updated_at, features.meta.compute_id,
 *    features.meta.created_at = if_not_exists(…, :now)` if `attribute_exists(features.meta)`.
 *    Every write to an existing record (ours or the old service's) is this one request.
 * 2. If the condition fails the record is new: PutItem of the whole item if
 *    `attribute_not_exists(<key>)`. A record's first write therefore costs 2 requests: DynamoDB
 *    cannot SET a path under a map that does not exist yet, nor SET `features` and a path
 *    inside it in one expression, and the old layout nests the metadata.
 * 3. If the put fails too, a concurrent first write won: back to 1, which keeps its created_at.
 *
 * Reads: GetItem (one request) and BatchGetItem (one per 100 categories, unprocessed keys
 * retried with jittered exponential backoff, then 503), projected to key, category and
 * `features`, so outbox attributes never leak. `DYNAMODB_CONSISTENT_READ` trades double read
 * cost for read-your-writes (eventually consistent reads may miss a write of the last second).
 *
 * Values: numbers are DynamoDB N; a feature DynamoDB cannot hold exactly (nested deeper than 29
 * containers, a number below 1e-130, a lone surrogate) is stored as a Binary of its JSON text.
 * Items are sized the DynamoDB way before sending; over 400 KB (minus a 1 KB reserve) is a 413
 * with no request sent.
 *
 * Outbox without transactions: with an event, the same single request appends it to the
 * item's `outbox_events` list (`list_append(if_not_exists(…))`), adds to `outbox_count` and
 * `outbox_bytes`, and sets `outbox_shard` (one of OUTBOX_SHARDS, by key hash) and `outbox_at`
 * (order key of the oldest pending event) if absent. Those two are the keys of the sparse
 * `outbox_pending` index, so only items with pending events are in it. Relays query every shard
 * for unleased items, oldest first, lease an item with a conditional UpdateItem (lease expired
 * or absent), publish its events in list order, then remove exactly those events by index under
 * the condition that the ids are still there (else re-read and retry); the last removal deletes
 * the index keys too. Pending events take room in the item: a write whose event would not fit
 * next to the events already waiting is refused with 503 (back-pressure while Kafka is down)
 * rather than risking an event. Delivery is at-least-once.
 *
 * Errors map from SDK error names (dynamodb-errors.ts): throttling → 503 after the SDK's
 * retries, missing table → 503 naming it, access/credentials/network → 503 generic.
 */
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../../config.js';
import {
  ConfigError,
  PayloadTooLargeError,
  RequestValidationError,
  StoreThrottledError,
  StoreUnavailableError,
} from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { FeatureRecord, RecordMeta } from '../../model.js';
import { normalizeTimestamp } from '../../timestamps.js';
import { assertRegion, createDynamoDbClients, type DynamoDbClients } from './client.js';
import { isConditionalCheckFailed, translateError } from './errors.js';
import { itemSize, MAX_ITEM_BYTES, utf8Length } from './item-size.js';
import {
  ATTR,
  encodeData,
  keyFits,
  LAYOUT_ATTRIBUTES,
  MalformedItemError,
  MAX_PARTITION_KEY_BYTES,
  MAX_SORT_KEY_BYTES,
  OUTBOX_INDEX,
  toRecord,
  type Item,
} from './layout.js';
import { DynamoDbOutbox, pendingEvent, type PendingEvent } from './outbox.js';
import { describeTables, ensureTables, tableSpecs, type TableResult, type TableSpec } from './tables.js';
import type { FeatureStore, StoreHealth, WriteCategoryInput } from './feature-store.js';

export interface DynamoDbStoreOptions {
  clients: DynamoDbClients;
  /** Entity type → table name. */
  entityTables: Readonly<Record<string, string>>;
  consistentRead: boolean;
  /** Health fails when a table lacks the outbox index (set when change events are on). */
  requireOutboxIndex: boolean;
}

/** Update/put rounds before a write gives up (each round is lost only to a concurrent writer). */
const WRITE_ROUNDS = 3;
/**
 * Bytes kept free in every item for what a write does not control: an old-format created_at
 * (longer than ours), the outbox bookkeeping attributes and a relay's lease.
 */
const ITEM_RESERVE_BYTES = 1024;
const BATCH_GET_KEYS = 100;
const BATCH_GET_ATTEMPTS = 8;
const BATCH_BACKOFF_BASE_MS = 25;
const BATCH_BACKOFF_CAP_MS = 1000;

const READ_PROJECTION = '#k, #c, #f';

export class DynamoDbStore implements FeatureStore {
  readonly type = 'dynamodb';
  readonly outbox: DynamoDbOutbox;
  readonly #raw: DynamoDBClient;
  readonly #doc: DynamoDBDocumentClient;
  readonly #specs: TableSpec[];
  readonly #tables: ReadonlyMap<string, TableSpec>;
  readonly #consistentRead: boolean;
  readonly #requireOutboxIndex: boolean;
  #closed = false;

  constructor(options: DynamoDbStoreOptions) {
    this.#raw = options.clients.raw;
    this.#doc = options.clients.doc;
    this.#specs = tableSpecs(options.entityTables);
    this.#tables = new Map(this.#specs.map((s) => [s.entityType, s]));
    this.#consistentRead = options.consistentRead;
    this.#requireOutboxIndex = options.requireOutboxIndex;
    this.outbox = new DynamoDbOutbox(this.#doc, this.#specs, () => !this.#closed);
  }

  async writeCategory(input: WriteCategoryInput): Promise<RecordMeta> {
    const spec = this.#open(input.entityType);
    if (!keyFits(input.entityValue, input.category)) {
      throw new RequestValidationError([
        {
          type: 'string_too_long',
          loc: ['body', 'data', 'entity_value'],
          msg: `String should have at most ${MAX_PARTITION_KEY_BYTES} bytes in UTF-8 (the DynamoDB key limit)`,
        },
      ]);
    }
    const key: Item = { [spec.entityType]: input.entityValue, [ATTR.category]: input.category };
    const data = encodeData(input.data);
    const meta = { [ATTR.createdAt]: input.now, [ATTR.updatedAt]: input.now, [ATTR.computeId]: input.computeId };
    const item: Item = { ...key, [ATTR.features]: { [ATTR.data]: data, [ATTR.meta]: meta } };
    const pending =
      input.event === undefined ? undefined : pendingEvent(input.event, input.now, input.entityValue, input.category);
    // 3: the overhead of the events list itself.
    const needed = itemSize(item) + ITEM_RESERVE_BYTES + (pending === undefined ? 0 : 3 + pending.size);
    if (needed > MAX_ITEM_BYTES) {
      throw new PayloadTooLargeError(
        `The record needs ${needed} bytes of storage; a DynamoDB item holds at most ${MAX_ITEM_BYTES} bytes`,
      );
    }
    // How many bytes of events already waiting still fit next to this write.
    const room = MAX_ITEM_BYTES - needed;
    const written: RecordMeta = { created_at: input.now, updated_at: input.now, compute_id: input.computeId };
    for (let round = 0; round < WRITE_ROUNDS; round++) {
      const createdAt = await this.#updateExisting(spec, key, input, data, pending, room);
      if (createdAt !== undefined) return { ...written, created_at: normalizeTimestamp(createdAt) };
      if (await this.#putNew(spec, item, pending)) return written;
    }
    throw await this.#explainConflict(spec, key, room);
  }

  async getCategory(entityType: string, entityValue: string, category: string): Promise<FeatureRecord | undefined> {
    const spec = this.#open(entityType);
    if (!keyFits(entityValue, category)) return undefined; // DynamoDB could not hold such a key
    try {
      const res = await this.#doc.send(
        new GetCommand({
          TableName: spec.table,
          Key: { [entityType]: entityValue, [ATTR.category]: category },
          ProjectionExpression: READ_PROJECTION,
          ExpressionAttributeNames: readNames(entityType),
          ConsistentRead: this.#consistentRead,
        }),
      );
      return res.Item === undefined ? undefined : toRecord(spec.table, entityType, entityValue, res.Item);
    } catch (err) {
      throw translateError(err, spec.table);
    }
  }

  async getCategories(entityType: string, entityValue: string, categories: readonly string[]): Promise<FeatureRecord[]> {
    const spec = this.#open(entityType);
    const wanted = [...new Set(categories)].filter((c) => keyFits(entityValue, c));
    const chunks: string[][] = [];
    for (let i = 0; i < wanted.length; i += BATCH_GET_KEYS) chunks.push(wanted.slice(i, i + BATCH_GET_KEYS));
    const items = await Promise.all(chunks.map((chunk) => this.#batchGet(spec, entityValue, chunk)));
    return items.flat().map((item) => toRecord(spec.table, entityType, entityValue, item));
  }

  async health(): Promise<StoreHealth> {
    if (this.#closed) return { ok: false, tablesAvailable: [], error: 'store is closed' };
    const states = await describeTables(this.#raw, this.#specs);
    const problems: string[] = [];
    for (const s of states) {
      if (s.error !== undefined) problems.push(`${s.table}: ${s.error}`);
      else if (!s.available) problems.push(`${s.table}: table does not exist or is not active`);
      else if (this.#requireOutboxIndex && !s.hasOutboxIndex) {
        problems.push(`${s.table}: index '${OUTBOX_INDEX}' is missing (run \`feature-store tables create\`)`);
      }
    }
    const tablesAvailable = states.filter((s) => s.available).map((s) => s.table);
    return problems.length === 0 ? { ok: true, tablesAvailable } : { ok: false, tablesAvailable, error: problems.join('; ') };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#raw.destroy();
  }

  #open(entityType: string): TableSpec {
    if (this.#closed) throw new StoreUnavailableError();
    const spec = this.#tables.get(entityType);
    if (spec === undefined) throw new Error(`DynamoDbStore: entity type '${entityType}' is not configured`);
    return spec;
  }

  /** Step 1: resolves with the stored created_at, or undefined when the record does not exist. */
  async #updateExisting(
    spec: TableSpec,
    key: Item,
    input: WriteCategoryInput,
    data: Item | Uint8Array,
    pending: PendingEvent | undefined,
    room: number,
  ): Promise<string | undefined> {
    const names: Record<string, string> = {
      '#f': ATTR.features,
      '#d': ATTR.data,
      '#m': ATTR.meta,
      '#c': ATTR.createdAt,
      '#u': ATTR.updatedAt,
      '#ci': ATTR.computeId,
    };
    const values: Record<string, unknown> = { ':data': data, ':now': input.now, ':cid': input.computeId };
    let set = '#f.#d = :data, #f.#m.#u = :now, #f.#m.#ci = :cid, #f.#m.#c = if_not_exists(#f.#m.#c, :now)';
    let condition = 'attribute_exists(#f.#m)';
    if (pending !== undefined) {
      Object.assign(names, { '#ev': ATTR.events, '#on': ATTR.count, '#ob': ATTR.bytes, '#os': ATTR.shard, '#oa': ATTR.at });
      Object.assign(values, {
        ':evs': [pending.stored],
        ':empty': [],
        ':zero': 0,
        ':one': 1,
        ':size': pending.size,
        ':shard': pending.shard,
        ':at': pending.stored.at,
        ':room': room,
      });
      set +=
        ', #ev = list_append(if_not_exists(#ev, :empty), :evs), #on = if_not_exists(#on, :zero) + :one' +
        ', #ob = if_not_exists(#ob, :zero) + :size, #os = if_not_exists(#os, :shard), #oa = if_not_exists(#oa, :at)';
      condition += ' AND (attribute_not_exists(#ob) OR #ob <= :room)';
    }
    try {
      const res = await this.#doc.send(
        new UpdateCommand({
          TableName: spec.table,
          Key: key,
          UpdateExpression: `SET ${set}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          // ALL_NEW, not UPDATED_NEW: some implementations (moto) leave out attributes whose
          // value did not change, such as a kept created_at. The response is barely larger:
          // UPDATED_NEW would carry the new data and the events list too.
          ReturnValues: 'ALL_NEW',
          // Tells "record is new" from "record exists, outbox full" without a read where
          // supported (DynamoDB, moto); dynalite ignores it and `#explainConflict` decides.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return createdAtOf(res.Attributes) ?? input.now;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw translateError(err, spec.table);
      const old = (err as { Item?: unknown }).Item;
      if (old !== undefined && old !== null) throw existingItemRefused(spec.table, old);
      return undefined;
    }
  }

  /** Step 2: resolves false when the record exists after all (a concurrent first write). */
  async #putNew(spec: TableSpec, item: Item, pending: PendingEvent | undefined): Promise<boolean> {
    const full: Item =
      pending === undefined
        ? item
        : {
            ...item,
            [ATTR.events]: [pending.stored],
            [ATTR.count]: 1,
            [ATTR.bytes]: pending.size,
            [ATTR.shard]: pending.shard,
            [ATTR.at]: pending.stored.at,
          };
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: spec.table,
          Item: full,
          ConditionExpression: 'attribute_not_exists(#k)',
          ExpressionAttributeNames: { '#k': spec.entityType },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw translateError(err, spec.table);
    }
  }

  /** Why every round failed: the item exists but cannot take the write (one consistent read). */
  async #explainConflict(spec: TableSpec, key: Item, room: number): Promise<Error> {
    try {
      const res = await this.#doc.send(
        new GetCommand({
          TableName: spec.table,
          Key: key,
          ProjectionExpression: '#f.#m, #ob',
          ExpressionAttributeNames: { '#f': ATTR.features, '#m': ATTR.meta, '#ob': ATTR.bytes },
          ConsistentRead: true,
        }),
      );
      const item = res.Item;
      if (item !== undefined && !hasMeta(item)) return new MalformedItemError(spec.table, 'no features.meta');
      const bytes: unknown = item?.[ATTR.bytes];
      if (typeof bytes === 'number' && bytes > room) return outboxFull();
    } catch (err) {
      const translated = translateError(err, spec.table);
      return translated instanceof Error ? translated : new Error(String(translated));
    }
    return new StoreUnavailableError('The record kept changing during the write; retry');
  }

  async #batchGet(spec: TableSpec, entityValue: string, categories: readonly string[]): Promise<Item[]> {
    let keys: Item[] = categories.map((c) => ({ [spec.entityType]: entityValue, [ATTR.category]: c }));
    const found: Item[] = [];
    for (let attempt = 1; ; attempt++) {
      let res;
      try {
        res = await this.#doc.send(
          new BatchGetCommand({
            RequestItems: {
              [spec.table]: {
                Keys: keys,
                ProjectionExpression: READ_PROJECTION,
                ExpressionAttributeNames: readNames(spec.entityType),
                ConsistentRead: this.#consistentRead,
              },
            },
          }),
        );
      } catch (err) {
        throw translateError(err, spec.table);
      }
      found.push(...(res.Responses?.[spec.table] ?? []));
      const unprocessed = res.UnprocessedKeys?.[spec.table]?.Keys;
      if (unprocessed === undefined || unprocessed.length === 0) return found;
      if (attempt >= BATCH_GET_ATTEMPTS) throw new StoreThrottledError();
      keys = unprocessed;
      // Full jitter: spreads the retries of many callers hitting the same hot partition.
      const ceiling = Math.min(BATCH_BACKOFF_CAP_MS, BATCH_BACKOFF_BASE_MS * 2 ** attempt);
      await new Promise((r) => setTimeout(r, Math.random() * ceiling));
    }
  }
}

function readNames(entityType: string): Record<string, string> {
  return { '#k': entityType, '#c': ATTR.category, '#f': ATTR.features };
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function createdAtOf(attributes: unknown): string | undefined {
  const created = field(field(field(attributes, ATTR.features), ATTR.meta), ATTR.createdAt);
  return typeof created === 'string' ? created : undefined;
}

function hasMeta(item: unknown): boolean {
  return field(field(item, ATTR.features), ATTR.meta) !== undefined;
}

/** `ALL_OLD` on a failed condition comes back as raw attribute values ({ M: … }). */
function hasRawMeta(item: unknown): boolean {
  return field(field(field(field(item, ATTR.features), 'M'), ATTR.meta), 'M') !== undefined || hasMeta(item);
}

function existingItemRefused(table: string, old: unknown): Error {
  return hasRawMeta(old) ? outboxFull() : new MalformedItemError(table, 'no features.meta');
}

function outboxFull(): StoreUnavailableError {
  return new StoreUnavailableError(
    'Change events of this record are still waiting to be published and its storage item has no room for another; retry later',
  );
}

function checkNames(config: Config): void {
  for (const type of Object.keys(config.entityTables)) {
    if (LAYOUT_ATTRIBUTES.includes(type)) {
      throw new ConfigError(`ENTITY_TYPES: '${type}' is an attribute name of the DynamoDB item layout`);
    }
  }
  for (const category of config.categories) {
    if (utf8Length(category) > MAX_SORT_KEY_BYTES) {
      throw new ConfigError(`CATEGORY_WHITELIST: '${category}' is longer than ${MAX_SORT_KEY_BYTES} bytes (DynamoDB's sort key limit)`);
    }
  }
}

/** The `STORE=dynamodb` factory: validates, builds clients, optionally creates tables. */
export async function createDynamoDbStore(config: Config, logger: Logger): Promise<DynamoDbStore> {
  checkNames(config);
  const clients = createDynamoDbClients(config.dynamodb);
  try {
    await assertRegion(clients.raw);
    if (config.dynamodb.createTables) {
      for (const r of await ensureTables(clients.raw, tableSpecs(config.entityTables))) {
        logger.info({ table: r.table, action: r.action, index: r.indexStatus }, 'DynamoDB table ready');
      }
    }
  } catch (err) {
    clients.raw.destroy();
    throw err;
  }
  return new DynamoDbStore({
    clients,
    entityTables: config.entityTables,
    consistentRead: config.dynamodb.consistentRead,
    requireOutboxIndex: config.kafka !== undefined,
  });
}

/** `feature-store tables create`: creates what is missing, reports per table what it did. */
export async function createDynamoDbTables(config: Config, options: { timeoutMs?: number } = {}): Promise<TableResult[]> {
  checkNames(config);
  const clients = createDynamoDbClients(config.dynamodb);
  try {
    await assertRegion(clients.raw);
    return await ensureTables(clients.raw, tableSpecs(config.entityTables), options);
  } finally {
    clients.raw.destroy();
  }
}
