/**
 * The DynamoDB backend's record port (`STORE=dynamodb`) on the old service's tables, kept as
 * they are (layout.ts). The write protocol is in write-protocol.ts (requests) and record-io.ts
 * (sending them, reading what failed; the record path's requests in fast-io.ts), merges in
 * merge-protocol.ts and merge-record.ts, deletes in delete-record.ts, batch reads in
 * batch-get.ts, the outbox in outbox-item.ts (writer side) and outbox.ts (relay side).
 *
 * Requests per operation (measured in test/store/dynamodb-requests.test.ts):
 * - read of one key: 1 GetItem; of n keys: ⌈n/100⌉ BatchGetItem issued in parallel;
 * - write: 1 request (TransactWriteItems with an event, UpdateItem or PutItem without) when
 *   the write order guesses right whether the record exists (write-order.ts), else 2;
 * - merge of an existing record: 1 request (with an event, then 1 consistent GetItem for the
 *   feature count); a record's first merge: 2 (see merge-protocol.ts for the rare fallback);
 * - delete: with an event a consistent GetItem (the event names the deleted features) then a
 *   TransactWriteItems conditioned on the record being unchanged; without, 1 DeleteItem.
 *
 * `DYNAMODB_CONSISTENT_READ` trades double read cost for read-your-writes on reads.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RecordTransport } from './direct-transport.js';
import { StoreUnavailableError } from '../../errors.js';
import type { ComputeHistoryEntry, FeatureRecord } from '../../model.js';
import type {
  CategoryListPage,
  CategoryListQuery,
  ComputeJobPage,
  ComputeJobQuery,
  DeleteRecordInput,
  FeatureStore,
  MergeRecordInput,
  MergeResult,
  RecordKey,
  RecordVersions,
  StoreHealth,
  WriteRecordInput,
  WriteResult,
} from '../ports.js';
import { batchGet, type TableKeys } from './batch-get.js';
import { countByComputeId, queryByComputeId } from './by-compute-id.js';
import { DynamoDbComputeJobs } from './compute-jobs.js';
import { scanCategory } from './list-category.js';
import { destroyClients, type DynamoDbClients } from './client.js';
import { translateError } from './errors.js';
import { decodeHistory, historyProjection } from './history.js';
import { ATTR, MalformedItemError, toRecord, unstorableField, type Item } from './layout.js';
import { deleteRecord } from './delete-record.js';
import { mergeRecord } from './merge-record.js';
import { DynamoDbOutbox } from './outbox.js';
import { itemKey, RecordIo, recordId } from './record-io.js';
import { describeTables, type TableSpec } from './tables.js';
import { WriteOrder } from './write-order.js';
import { writeRecord } from './write-record.js';
import { DynamoDbRollbacks } from './rollbacks.js';
import { decodeVersions, versionsKey } from './versions.js';

export interface DynamoDbStoreOptions {
  clients: DynamoDbClients;
  specs: readonly TableSpec[];
  outboxTable: string;
  /** Versions and rollback states (versions.ts, rollbacks.ts). */
  versionsTable: string;
  /** Health fails without the versions table (set when versions are kept for any category). */
  requireVersions: boolean;
  consistentRead: boolean;
  /** Health fails without the outbox table and its index (set when change events are on). */
  requireOutbox: boolean;
  /** Memory for the record keys known to exist (write-order.ts); 0: every write update-first. */
  writeOrderBytes: number;
}



export class DynamoDbStore implements FeatureStore {
  readonly type = 'dynamodb';
  readonly outbox: DynamoDbOutbox;
  readonly computeJobs: DynamoDbComputeJobs;
  readonly rollbacks: DynamoDbRollbacks;
  readonly #versionsTable: string;
  readonly #requireVersions: boolean;
  readonly #raw: DynamoDBClient;
  readonly #records: RecordTransport;
  readonly #clients: DynamoDbClients;
  readonly #doc: DynamoDBDocumentClient;
  readonly #specs: readonly TableSpec[];
  readonly #byType: ReadonlyMap<string, TableSpec>;
  readonly #byTable: ReadonlyMap<string, TableSpec>;
  readonly #outboxTable: string;
  readonly #consistentRead: boolean;
  readonly #requireOutbox: boolean;
  readonly #io: RecordIo;
  readonly #order: WriteOrder;
  #closed = false;

  constructor(options: DynamoDbStoreOptions) {
    this.#raw = options.clients.raw;
    this.#records = options.clients.records;
    this.#clients = options.clients;
    this.#doc = options.clients.doc;
    this.#specs = options.specs;
    this.#byType = new Map(options.specs.map((s) => [s.entityType, s]));
    this.#byTable = new Map(options.specs.map((s) => [s.table, s]));
    this.#outboxTable = options.outboxTable;
    this.#consistentRead = options.consistentRead;
    this.#requireOutbox = options.requireOutbox;
    this.#order = new WriteOrder(options.writeOrderBytes);
    this.#io = new RecordIo(this.#doc, options.clients.records, options.outboxTable);
    this.computeJobs = new DynamoDbComputeJobs(this.#doc, options.clients.records, options.outboxTable);
    this.outbox = new DynamoDbOutbox(this.#doc, options.outboxTable, () => !this.#closed, this.computeJobs);
    this.#versionsTable = options.versionsTable;
    this.#requireVersions = options.requireVersions;
    this.rollbacks = new DynamoDbRollbacks(this.#doc, options.versionsTable);
  }

  async getRecords(keys: readonly RecordKey[]): Promise<(FeatureRecord | undefined)[]> {
    const results: (FeatureRecord | undefined)[] = new Array<FeatureRecord | undefined>(keys.length).fill(undefined);
    // Distinct storable keys → the input positions that asked for them.
    const wanted = new Map<string, { spec: TableSpec; key: RecordKey; positions: number[] }>();
    keys.forEach((key, i) => {
      const spec = this.#open(key.entityType);
      if (unstorableField(key.entityValue, key.category) !== undefined) return; // no such record can exist
      const id = recordId(key.entityType, key.entityValue, key.category);
      const entry = wanted.get(id);
      if (entry === undefined) wanted.set(id, { spec, key, positions: [i] });
      else entry.positions.push(i);
    });
    if (wanted.size === 0) return results;
    const place = (spec: TableSpec, item: Item): void => {
      const value: unknown = item[spec.entityType];
      const category: unknown = item[ATTR.category];
      if (typeof value !== 'string' || typeof category !== 'string') throw new MalformedItemError(spec.table, 'no key attributes');
      const entry = wanted.get(recordId(spec.entityType, value, category));
      if (entry === undefined) return;
      const record = toRecord(spec.table, spec.entityType, value, item);
      for (const p of entry.positions) results[p] = record;
    };
    if (wanted.size === 1) {
      const { spec, key } = wanted.values().next().value as { spec: TableSpec; key: RecordKey };
      const item = await this.#io.get(spec, itemKey(spec, key), this.#consistentRead);
      if (item !== undefined) place(spec, item);
      return results;
    }
    const perTable = new Map<string, TableKeys>();
    for (const { spec, key } of wanted.values()) {
      let t = perTable.get(spec.table);
      if (t === undefined) perTable.set(spec.table, (t = { table: spec.table, partitionKey: spec.entityType, keys: [] }));
      t.keys.push(itemKey(spec, key));
    }
    for (const [table, item] of await batchGet(this.#records, [...perTable.values()], this.#consistentRead)) {
      const spec = this.#byTable.get(table);
      if (spec !== undefined) place(spec, item);
    }
    return results;
  }

  /** The update or the put first, as the write order guesses (write-record.ts, write-order.ts). */
  async writeRecord(input: WriteRecordInput): Promise<WriteResult> {
    return writeRecord(this.#io, this.#open(input.key.entityType), input, this.#versionsTable, this.#order);
  }

  /** Per-feature where it can, else a read and a conditioned replace (merge-record.ts). */
  async mergeRecord(input: MergeRecordInput): Promise<MergeResult> {
    const spec = this.#open(input.key.entityType);
    const result = await mergeRecord(this.#io, spec, input, this.#versionsTable);
    this.#order.remember(recordId(input.key.entityType, input.key.entityValue, input.key.category));
    return result;
  }

  /** The record (as `getRecords` reads it) and its versions item, in parallel. */
  async getVersions(key: RecordKey, limit: number): Promise<RecordVersions | undefined> {
    const spec = this.#open(key.entityType);
    if (unstorableField(key.entityValue, key.category) !== undefined) return undefined;
    const [item, versions] = await Promise.all([
      this.#io.get(spec, itemKey(spec, key), this.#consistentRead),
      limit > 0 ? this.#versionsItem(key) : Promise.resolve(undefined),
    ]);
    if (item === undefined) return undefined;
    const record = toRecord(spec.table, spec.entityType, key.entityValue, item);
    return { record, earlier: decodeVersions(versions, record.meta.updated_at, limit) };
  }

  async #versionsItem(key: RecordKey): Promise<Item | undefined> {
    try {
      const res = await this.#doc.send(new GetCommand({ TableName: this.#versionsTable, Key: versionsKey(key), ConsistentRead: this.#consistentRead }));
      return res.Item;
    } catch (err) {
      throw translateError(err, this.#versionsTable);
    }
  }

  async getComputeHistory(key: RecordKey, limit: number): Promise<ComputeHistoryEntry[] | undefined> {
    const spec = this.#open(key.entityType);
    if (unstorableField(key.entityValue, key.category) !== undefined) return undefined;
    try {
      const res = await this.#doc.send(
        new GetCommand({ TableName: spec.table, Key: itemKey(spec, key), ConsistentRead: this.#consistentRead, ...historyProjection(spec.entityType, limit) }),
      );
      return res.Item === undefined ? undefined : decodeHistory(res.Item, limit);
    } catch (err) {
      throw translateError(err, spec.table);
    }
  }

  async findByComputeId(query: ComputeJobQuery): Promise<ComputeJobPage> {
    const spec = this.#open(query.entityType);
    return queryByComputeId(this.#doc, spec.table, spec.entityType, query);
  }

  async countByComputeId(entityType: string, computeId: string): Promise<number> {
    return countByComputeId(this.#doc, this.#open(entityType).table, computeId);
  }

  async listCategory(query: CategoryListQuery): Promise<CategoryListPage> {
    return scanCategory(this.#doc, this.#open(query.entityType), query);
  }

  async deleteRecord(input: DeleteRecordInput): Promise<FeatureRecord | undefined> {
    const spec = this.#open(input.key.entityType);
    try {
      return await deleteRecord(this.#io, spec, input, { table: this.#versionsTable, required: this.#requireVersions });
    } finally {
      // Deleted, or perhaps deleted (an error after the request was sent): no longer known to exist.
      this.#order.forget(recordId(input.key.entityType, input.key.entityValue, input.key.category));
    }
  }

  async health(): Promise<StoreHealth> {
    if (this.#closed) return { ok: false, tablesAvailable: [], error: 'store is closed' };
    const states = await describeTables(this.#raw, this.#specs, this.#outboxTable, this.#requireVersions ? this.#versionsTable : undefined);
    const problems: string[] = [];
    for (const s of states) {
      if (s.kind === 'outbox' && !this.#requireOutbox) continue;
      if (s.error !== undefined) problems.push(`${s.table}: ${s.error}`);
      else if (!s.available) problems.push(`${s.table}: table does not exist or is not active (run \`feature-store tables create\`)`);
      else if (s.kind === 'outbox' && !s.hasOutboxIndex) problems.push(`${s.table}: its outbox index is missing (run \`feature-store tables create\`)`);
    }
    const tablesAvailable = states.filter((s) => s.kind === 'records' && s.available).map((s) => s.table);
    return problems.length === 0 ? { ok: true, tablesAvailable } : { ok: false, tablesAvailable, error: problems.join('; ') };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    destroyClients(this.#clients);
  }

  #open(entityType: string): TableSpec {
    if (this.#closed) throw new StoreUnavailableError();
    const spec = this.#byType.get(entityType);
    if (spec === undefined) throw new Error(`DynamoDbStore: entity type '${entityType}' is not configured`);
    return spec;
  }
}
