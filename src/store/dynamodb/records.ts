/**
 * The DynamoDB backend's record port (`STORE=dynamodb`) on the old service's tables, kept as
 * they are (layout.ts). The write protocol is in write-protocol.ts, batch reads in
 * batch-get.ts, the outbox in outbox-item.ts (writer side) and outbox.ts (relay side).
 *
 * Requests per operation (measured in test/store/dynamodb-requests.test.ts):
 * - read of one key: 1 GetItem; of n keys: ⌈n/100⌉ BatchGetItem issued in parallel;
 * - write of an existing record: 1 request (TransactWriteItems with an event, UpdateItem
 *   without); a record's first write: 2;
 * - merge of an existing record: 1 request (with an event, then 1 consistent GetItem for the
 *   feature count); a record's first merge: 2 (see merge-protocol.ts for the rare fallback);
 * - delete: with an event a consistent GetItem (the event names the deleted features) then a
 *   TransactWriteItems conditioned on the record being unchanged; without, 1 DeleteItem.
 *
 * `DYNAMODB_CONSISTENT_READ` trades double read cost for read-your-writes on reads.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PayloadTooLargeError, StoreUnavailableError } from '../../errors.js';
import type { ComputeHistoryEntry, FeatureRecord } from '../../model.js';
import type {
  ComputeJobPage,
  ComputeJobQuery,
  DeleteRecordInput,
  FeatureStore,
  MergeRecordInput,
  MergeResult,
  RecordKey,
  StoreHealth,
  WriteRecordInput,
  WriteResult,
} from '../ports.js';
import { batchGet, readProjection, type TableKeys } from './batch-get.js';
import { queryByComputeId } from './by-compute-id.js';
import type { DynamoDbClients } from './client.js';
import { isConditionalCheckFailed, translateError } from './errors.js';
import { decodeHistory, HISTORY_POSITION_MAX_BYTES, historyProjection } from './history.js';
import { itemSize, MAX_ITEM_BYTES } from './item-size.js';
import {
  assertStorable,
  ATTR,
  encodeData,
  encodeFeature,
  field,
  MalformedItemError,
  toRecord,
  unsafeKey,
  unstorableField,
  type Item,
} from './layout.js';
import { expiredReplace, isExpired, mergeAction, mergedData, mergeUpdate, replaceAction, type MergeAttempt } from './merge-protocol.js';
import { DynamoDbOutbox } from './outbox.js';
import { appendAction, eventFits, pendingEvent, type PendingEvent } from './outbox-item.js';
import { describeTables, type TableSpec } from './tables.js';
import { cancelOutcome, conditionOutcome, newRecordItem, outboxFull, recordDelete, recordPut, recordUpdate, type ConditionOutcome } from './write-protocol.js';

export interface DynamoDbStoreOptions {
  clients: DynamoDbClients;
  specs: readonly TableSpec[];
  outboxTable: string;
  consistentRead: boolean;
  /** Health fails without the outbox table and its index (set when change events are on). */
  requireOutbox: boolean;
}

/** Rounds before a write or delete gives up; a round is lost only to a concurrent writer. */
const ROUNDS = 4;
/**
 * Rounds before a merge gives up. Per-feature merges lose a round only to a transaction in
 * progress; a read-modify-write merge loses one to any concurrent change of the record.
 */
const MERGE_ROUNDS = 8;
/** Bytes kept free in every record item for what a write does not control (an old-format created_at). */
const ITEM_RESERVE_BYTES = 1024;

type Attempt = { kind: 'applied'; created: boolean } | { kind: 'stale'; storedEventTime: string } | { kind: 'missing' } | { kind: 'again' };

export class DynamoDbStore implements FeatureStore {
  readonly type = 'dynamodb';
  readonly outbox: DynamoDbOutbox;
  readonly #raw: DynamoDBClient;
  readonly #doc: DynamoDBDocumentClient;
  readonly #specs: readonly TableSpec[];
  readonly #byType: ReadonlyMap<string, TableSpec>;
  readonly #byTable: ReadonlyMap<string, TableSpec>;
  readonly #outboxTable: string;
  readonly #consistentRead: boolean;
  readonly #requireOutbox: boolean;
  #closed = false;

  constructor(options: DynamoDbStoreOptions) {
    this.#raw = options.clients.raw;
    this.#doc = options.clients.doc;
    this.#specs = options.specs;
    this.#byType = new Map(options.specs.map((s) => [s.entityType, s]));
    this.#byTable = new Map(options.specs.map((s) => [s.table, s]));
    this.#outboxTable = options.outboxTable;
    this.#consistentRead = options.consistentRead;
    this.#requireOutbox = options.requireOutbox;
    this.outbox = new DynamoDbOutbox(this.#doc, options.outboxTable, () => !this.#closed);
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
      const item = await this.#get(spec, itemKey(spec, key), this.#consistentRead);
      if (item !== undefined) place(spec, item);
      return results;
    }
    const perTable = new Map<string, TableKeys>();
    for (const { spec, key } of wanted.values()) {
      let t = perTable.get(spec.table);
      if (t === undefined) perTable.set(spec.table, (t = { table: spec.table, partitionKey: spec.entityType, keys: [] }));
      t.keys.push(itemKey(spec, key));
    }
    for (const [table, item] of await batchGet(this.#doc, [...perTable.values()], this.#consistentRead)) {
      const spec = this.#byTable.get(table);
      if (spec !== undefined) place(spec, item);
    }
    return results;
  }

  async writeRecord(input: WriteRecordInput): Promise<WriteResult> {
    const spec = this.#open(input.key.entityType);
    assertStorable(input.key);
    const key = itemKey(spec, input.key);
    const data = encodeData(input.data);
    const item = newRecordItem(key, input, data);
    // The stored history is not read: count every position at its largest.
    this.#assertFits(item, (input.historySize ?? 0) * HISTORY_POSITION_MAX_BYTES);
    const pending = input.event === undefined ? undefined : this.#pending(input.key, input.event, input.now);
    const meta = { updated_at: input.now, compute_id: input.computeId, ...(input.eventTime === undefined ? {} : { event_time: input.eventTime }) };
    for (let round = 0; round < ROUNDS; round++) {
      let attempt = await this.#update(spec, key, input, data, pending);
      if (attempt.kind === 'missing') attempt = await this.#put(spec, item, input.eventTime, pending);
      if (attempt.kind === 'applied') {
        const created = attempt.created;
        return { outcome: 'applied', meta: { ...meta, created, created_at: created ? input.now : undefined } };
      }
      if (attempt.kind === 'stale') return { outcome: 'stale', storedEventTime: attempt.storedEventTime };
      await jitter(round);
    }
    return this.#explain(spec, key, input.eventTime);
  }

  /**
   * Per-feature SET/REMOVE paths where it can (merge-protocol.ts), else a read and a replace on
   * the condition that the data is unchanged. Requests: 1 for an existing record (then, with an
   * event, 1 consistent GetItem to count the features: a transaction returns nothing); a
   * record's first merge: 2.
   */
  async mergeRecord(input: MergeRecordInput): Promise<MergeResult> {
    const spec = this.#open(input.key.entityType);
    assertStorable(input.key);
    const key = itemKey(spec, input.key);
    const pending = input.event === undefined ? undefined : this.#pending(input.key, input.event, input.now);
    const names = [...Object.keys(input.set), ...input.remove];
    this.#assertFits(newRecordItem(key, { ...input, data: input.set }, encodeData(input.set)));
    const set: Item = {};
    for (const [name, value] of Object.entries(input.set)) set[name] = encodeFeature(value);
    let update = names.some(unsafeKey) ? undefined : mergeUpdate(spec.table, key, input, set);
    // A put lost to an existing record after the update reported none: a racing first merge,
    // or (twice) a server that returns no item on a failed condition (dynalite).
    let putsLost = 0;
    for (let round = 0; round < MERGE_ROUNDS; round++) {
      let attempt: MergeAttempt;
      if (update !== undefined) {
        attempt = await mergeAction(this.#doc, this.#outboxTable, spec.table, update, pending);
      } else {
        const read = await this.#get(spec, key, true);
        if (read === undefined) attempt = { kind: 'missing' };
        else if (isExpired(spec, input, read)) {
          attempt = await mergeAction(this.#doc, this.#outboxTable, spec.table, expiredReplace(spec.table, key, input, encodeData(input.set)), pending);
          if (attempt.kind === 'applied') return { featureCount: Object.keys(input.set).length, created: false };
        } else attempt = await mergeAction(this.#doc, this.#outboxTable, spec.table, replaceAction(spec, key, input, read), pending);
      }
      if (attempt.kind === 'invalid') {
        // Refused as invalid: over the item size limit, or a bug. Only the first is the caller's.
        const read = await this.#get(spec, key, true);
        if (read !== undefined) this.#assertFits(newRecordItem(key, { ...input, data: {} }, encodeData(mergedData(spec, input, read))));
        throw translateError(attempt.error, spec.table);
      }
      if (attempt.kind === 'applied') {
        const item = attempt.item ?? (await this.#get(spec, key, true));
        const featureCount = item === undefined ? 0 : Object.keys(toRecord(spec.table, spec.entityType, input.key.entityValue, item).data).length;
        return { featureCount, created: false };
      }
      if (attempt.kind === 'missing') {
        const data = input.set;
        const item = newRecordItem(key, { key: input.key, data, computeId: input.computeId, now: input.now, expiresAt: input.expiresAt }, encodeData(data));
        const created = await this.#put(spec, item, undefined, pending);
        if (created.kind === 'applied') return { featureCount: Object.keys(data).length, created: true };
        if (created.kind === 'stale') throw new Error('DynamoDbStore: a put without event time was stale');
        putsLost += 1;
      }
      // The record is stored in a form per-feature paths cannot update: read it and replace it
      // if unchanged from here on.
      if (attempt.kind === 'exists' || putsLost >= 2) update = undefined;
      await jitter(round);
    }
    throw new StoreUnavailableError('The record kept changing during the merge; retry');
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

  async deleteRecord(input: DeleteRecordInput): Promise<FeatureRecord | undefined> {
    const spec = this.#open(input.key.entityType);
    if (unstorableField(input.key.entityValue, input.key.category) !== undefined) return undefined;
    const key = itemKey(spec, input.key);
    if (input.event === undefined) {
      try {
        const res = await this.#doc.send(new DeleteCommand({ TableName: spec.table, Key: key, ReturnValues: 'ALL_OLD' }));
        return res.Attributes === undefined ? undefined : toRecord(spec.table, spec.entityType, input.key.entityValue, res.Attributes);
      } catch (err) {
        throw translateError(err, spec.table);
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      // The event names the deleted features, so the record is read first; the delete is then
      // conditioned on the record being the one read (same updated_at).
      const item = await this.#get(spec, key, true);
      if (item === undefined) return undefined;
      const record = toRecord(spec.table, spec.entityType, input.key.entityValue, item);
      const pending = this.#pending(input.key, input.event(record), input.now);
      const del = recordDelete(spec.table, key, field(field(item[ATTR.features], ATTR.meta), ATTR.updatedAt));
      try {
        await this.#doc.send(new TransactWriteCommand({ TransactItems: [{ Delete: del }, { Update: appendAction(this.#outboxTable, pending) }] }));
        return record;
      } catch (err) {
        const outcome = cancelOutcome(err);
        if (outcome === undefined) throw translateError(err, spec.table);
        if (outcome.kind === 'outboxFull') throw outboxFull();
        // The record changed or another transaction was in progress: read again.
      }
      await jitter(round);
    }
    throw new StoreUnavailableError('The record kept changing during the delete; retry');
  }

  async health(): Promise<StoreHealth> {
    if (this.#closed) return { ok: false, tablesAvailable: [], error: 'store is closed' };
    const states = await describeTables(this.#raw, this.#specs, this.#outboxTable);
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
    this.#raw.destroy();
  }

  #open(entityType: string): TableSpec {
    if (this.#closed) throw new StoreUnavailableError();
    const spec = this.#byType.get(entityType);
    if (spec === undefined) throw new Error(`DynamoDbStore: entity type '${entityType}' is not configured`);
    return spec;
  }

  /** Refuses (413) a record item DynamoDB would refuse for its size. */
  /** Refuses (413) an item that could pass 400 KB; `extra` bytes the request adds unseen (history). */
  #assertFits(item: Item, extra = 0): void {
    const needed = itemSize(item) + ITEM_RESERVE_BYTES + extra;
    if (needed > MAX_ITEM_BYTES) {
      throw new PayloadTooLargeError(`The record needs ${needed} bytes of storage; a DynamoDB item holds at most ${MAX_ITEM_BYTES} bytes`);
    }
  }

  #pending(key: RecordKey, event: NonNullable<WriteRecordInput['event']>, now: string): PendingEvent {
    const pending = pendingEvent(event, now, key.entityType, key.entityValue, key.category);
    if (!eventFits(pending)) {
      throw new PayloadTooLargeError(`The change event needs ${pending.size} bytes; an outbox item holds at most ${MAX_ITEM_BYTES} bytes`);
    }
    return pending;
  }

  async #get(spec: TableSpec, key: Item, consistent: boolean): Promise<Item | undefined> {
    try {
      const res = await this.#doc.send(
        new GetCommand({ TableName: spec.table, Key: key, ConsistentRead: consistent, ...readProjection(spec.entityType) }),
      );
      return res.Item;
    } catch (err) {
      throw translateError(err, spec.table);
    }
  }

  /** The update of an existing record (with its event in one transaction, when there is one). */
  async #update(spec: TableSpec, key: Item, input: WriteRecordInput, data: Item | Uint8Array, pending: PendingEvent | undefined): Promise<Attempt> {
    const update = recordUpdate(spec.table, key, input, data);
    try {
      if (pending === undefined) await this.#doc.send(new UpdateCommand(update));
      else await this.#doc.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, { Update: appendAction(this.#outboxTable, pending) }] }));
      return { kind: 'applied', created: false };
    } catch (err) {
      return this.#failed(err, spec, input.eventTime, pending !== undefined);
    }
  }

  /** The put of a new record; `again` when a concurrent first write won (back to the update). */
  async #put(spec: TableSpec, item: Item, eventTime: string | undefined, pending: PendingEvent | undefined): Promise<Attempt> {
    const put = recordPut(spec.table, spec.entityType, item);
    try {
      if (pending === undefined) await this.#doc.send(new PutCommand(put));
      else await this.#doc.send(new TransactWriteCommand({ TransactItems: [{ Put: put }, { Update: appendAction(this.#outboxTable, pending) }] }));
      return { kind: 'applied', created: true };
    } catch (err) {
      const attempt = this.#failed(err, spec, eventTime, pending !== undefined);
      return attempt.kind === 'missing' ? { kind: 'again' } : attempt;
    }
  }

  /** A failed record action as an attempt; throws what is not a condition or a conflict. */
  #failed(err: unknown, spec: TableSpec, eventTime: string | undefined, transaction: boolean): Attempt {
    let outcome: ConditionOutcome;
    if (transaction) {
      const cancel = cancelOutcome(err);
      if (cancel === undefined) throw translateError(err, spec.table);
      if (cancel.kind === 'outboxFull') throw outboxFull();
      if (cancel.kind === 'conflict') return { kind: 'again' };
      outcome = conditionOutcome(cancel.oldItem, eventTime);
    } else {
      if (!isConditionalCheckFailed(err)) throw translateError(err, spec.table);
      outcome = conditionOutcome((err as { Item?: unknown }).Item, eventTime);
    }
    if (outcome.kind === 'malformed') throw new MalformedItemError(spec.table, 'no features.meta');
    if (outcome.kind === 'stale') return outcome;
    return outcome.kind === 'missing' ? { kind: 'missing' } : { kind: 'again' };
  }

  /**
   * Every round lost: decide with one consistent read (servers that return no item on a failed
   * condition end here for a stale write).
   */
  async #explain(spec: TableSpec, key: Item, eventTime: string | undefined): Promise<WriteResult> {
    const item = await this.#get(spec, key, true);
    if (item !== undefined) {
      const record = toRecord(spec.table, spec.entityType, String(item[spec.entityType]), item);
      const stored = record.meta.event_time;
      if (eventTime !== undefined && stored !== undefined && stored > eventTime) return { outcome: 'stale', storedEventTime: stored };
    }
    throw new StoreUnavailableError('The record kept changing during the write; retry');
  }
}

function recordId(entityType: string, entityValue: string, category: string): string {
  return `${entityType}\u0000${entityValue}\u0000${category}`;
}

function itemKey(spec: TableSpec, key: RecordKey): Item {
  return { [spec.entityType]: key.entityValue, [ATTR.category]: key.category };
}


/** A short random pause before the next round, so that racing writers do not collide again. */
function jitter(round: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * 5 * (round + 1)));
}
