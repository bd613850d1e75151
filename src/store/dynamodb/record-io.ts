import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PayloadTooLargeError, StoreUnavailableError } from '../../errors.js';
import type { RecordKey, WriteRecordInput, WriteResult } from '../ports.js';
import type { RecordTransport } from './direct-transport.js';
import { readProjection } from './batch-get.js';
import { isConditionalCheckFailed, translateError } from './errors.js';
import { getItem, putItem, transactWrite, updateItem } from './fast-io.js';
import { itemSize, MAX_ITEM_BYTES } from './item-size.js';
import { ATTR, MalformedItemError, toRecord, type Item } from './layout.js';
import { appendAction, eventFits, pendingEvent, type PendingEvent, type UpdateAction } from './outbox-item.js';
import type { TableSpec } from './tables.js';
import type { VersionsAction } from './versions.js';
import { cancelOutcome, conditionOutcome, outboxFull, recordPut, recordUpdate, type ConditionOutcome } from './write-protocol.js';

/** Rounds before a write or delete gives up; a round is lost only to a concurrent writer. */
export const ROUNDS = 4;
/** Bytes kept free in every record item for what a write does not control (an old-format created_at). */
const ITEM_RESERVE_BYTES = 1024;

/** One round of a record write: what its request did. */
export type Attempt = { kind: 'applied'; created: boolean } | { kind: 'stale'; storedEventTime: string } | { kind: 'missing' } | { kind: 'again' };

/**
 * The requests on one record item that the record port's operations (records.ts,
 * merge-record.ts) share: the consistent or eventual read, the size check, the event's outbox
 * entry, the conditioned update and put of the write protocol (write-protocol.ts), and what a
 * failed condition means.
 */
export class RecordIo {
  readonly doc: DynamoDBDocumentClient;
  /** The record path's transport (fast-io.ts): reads, and the writes, merges and deletes of records. */
  readonly transport: RecordTransport;
  readonly outboxTable: string;

  constructor(doc: DynamoDBDocumentClient, transport: RecordTransport, outboxTable: string) {
    this.doc = doc;
    this.transport = transport;
    this.outboxTable = outboxTable;
  }

  /** Refuses (413) an item that could pass 400 KB; `extra` bytes the request adds unseen (history). */
  assertFits(item: Item, extra = 0): void {
    const needed = itemSize(item) + ITEM_RESERVE_BYTES + extra;
    if (needed > MAX_ITEM_BYTES) {
      throw new PayloadTooLargeError(`The record needs ${needed} bytes of storage; a DynamoDB item holds at most ${MAX_ITEM_BYTES} bytes`);
    }
  }

  pending(key: RecordKey, event: NonNullable<WriteRecordInput['event']>, now: string): PendingEvent {
    const pending = pendingEvent(event, now, key.entityType, key.entityValue, key.category);
    if (!eventFits(pending)) {
      throw new PayloadTooLargeError(`The change event needs ${pending.size} bytes; an outbox item holds at most ${MAX_ITEM_BYTES} bytes`);
    }
    return pending;
  }

  async get(spec: TableSpec, key: Item, consistent: boolean): Promise<Item | undefined> {
    try {
      return await getItem(this.transport, { TableName: spec.table, Key: key, ConsistentRead: consistent, ...readProjection(spec.entityType) });
    } catch (err) {
      throw translateError(err, spec.table);
    }
  }

  /**
   * The actions that ride with a record action in its transaction, in a fixed order: the outbox
   * append second (cancelOutcome reads its reason there), the versions update last.
   */
  companions(pending: PendingEvent | undefined, versions: VersionsAction | undefined): { Update: UpdateAction | VersionsAction }[] {
    const actions: { Update: UpdateAction | VersionsAction }[] = [];
    if (pending !== undefined) actions.push({ Update: appendAction(this.outboxTable, pending) });
    if (versions !== undefined) actions.push({ Update: versions });
    return actions;
  }

  /** The update of an existing record (with its event and versions in one transaction, when there are any). */
  async update(
    spec: TableSpec,
    key: Item,
    input: WriteRecordInput,
    data: Item | Uint8Array,
    pending: PendingEvent | undefined,
    versions?: VersionsAction,
  ): Promise<Attempt> {
    const update = recordUpdate(spec.table, key, input, data);
    const companions = this.companions(pending, versions);
    try {
      if (companions.length === 0) await updateItem(this.transport, update);
      else await transactWrite(this.transport, [{ Update: update }, ...companions]);
      return { kind: 'applied', created: false };
    } catch (err) {
      return this.failed(err, spec, input.eventTime, companions.length > 0);
    }
  }

  /** The put of a new record; `again` when a concurrent first write won (back to the update). */
  async put(spec: TableSpec, item: Item, eventTime: string | undefined, pending: PendingEvent | undefined, versions?: VersionsAction): Promise<Attempt> {
    const put = recordPut(spec.table, spec.entityType, item);
    const companions = this.companions(pending, versions);
    try {
      if (companions.length === 0) await putItem(this.transport, put);
      else await transactWrite(this.transport, [{ Put: put }, ...companions]);
      return { kind: 'applied', created: true };
    } catch (err) {
      const attempt = this.failed(err, spec, eventTime, companions.length > 0);
      return attempt.kind === 'missing' ? { kind: 'again' } : attempt;
    }
  }

  /** A failed record action as an attempt; throws what is not a condition or a conflict. */
  failed(err: unknown, spec: TableSpec, eventTime: string | undefined, transaction: boolean): Attempt {
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
  async explain(spec: TableSpec, key: Item, eventTime: string | undefined): Promise<WriteResult> {
    const item = await this.get(spec, key, true);
    if (item !== undefined) {
      const record = toRecord(spec.table, spec.entityType, String(item[spec.entityType]), item);
      const stored = record.meta.event_time;
      if (eventTime !== undefined && stored !== undefined && stored > eventTime) return { outcome: 'stale', storedEventTime: stored };
    }
    throw new StoreUnavailableError('The record kept changing during the write; retry');
  }
}

export function recordId(entityType: string, entityValue: string, category: string): string {
  return `${entityType}\u0000${entityValue}\u0000${category}`;
}

export function itemKey(spec: TableSpec, key: RecordKey): Item {
  return { [spec.entityType]: key.entityValue, [ATTR.category]: key.category };
}

/** A short random pause before the next round, so that racing writers do not collide again. */
export function jitter(round: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * 5 * (round + 1)));
}
