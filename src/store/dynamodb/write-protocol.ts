import { StoreUnavailableError } from '../../errors.js';
import type { WriteRecordInput } from '../ports.js';
import { cancelReasons } from './errors.js';
import { lineageActions, newLineage } from './by-compute-id.js';
import { historyShift, newHistory } from './history.js';
import { ATTR, oldRecordState, ttlSeconds, type Item } from './layout.js';
import type { UpdateAction } from './outbox-item.js';

/**
 * The requests of one record write, and what their failures mean. Two paths:
 *
 * - **With an event** (events on): one `TransactWriteItems` of two actions — the record's
 *   update (or, for a new record, its conditional put) and the append of the event to the
 *   record's outbox item (outbox-item.ts). Both apply or neither does.
 * - **Without an event** (events off): the same record action as a plain UpdateItem/PutItem.
 *   This path needs no transactions, so dynalite can run it.
 *
 * The record update sets `features.data` and the metadata paths, keeping `created_at`
 * (`if_not_exists`), on the condition that `features.meta` exists; with an event time it also
 * requires the stored event time to be absent or not later (the ordering check is part of the
 * atomic write, never a read before it). The same expression shifts the compute history
 * (history.ts) and sets or removes the by-compute-id index keys (by-compute-id.ts), so lineage
 * costs no request of its own. A record's first write fails that condition and is
 * then a put conditioned on the item not existing, because DynamoDB cannot SET a path under a
 * map that does not exist yet and the old layout nests the metadata: 2 requests, as before. A
 * put that loses to a concurrent first write goes back to the update, which keeps the winner's
 * `created_at`.
 *
 * Every action asks for `ReturnValuesOnConditionCheckFailure: ALL_OLD`, so a failed condition
 * says why (no record, a later event time, not a record item) without another read where the
 * server supports it (DynamoDB, moto). Where it does not (dynalite), the caller's rounds end in
 * one consistent read that decides.
 */
export interface UpdateRequest extends UpdateAction {
  ReturnValuesOnConditionCheckFailure: 'ALL_OLD';
}

export interface PutRequest {
  TableName: string;
  Item: Item;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ReturnValuesOnConditionCheckFailure: 'ALL_OLD';
}

/** The attribute names of a record update's expressions (each update uses every one). */
export const RECORD_NAMES: Readonly<Record<string, string>> = Object.freeze({
  '#f': ATTR.features,
  '#d': ATTR.data,
  '#m': ATTR.meta,
  '#c': ATTR.createdAt,
  '#u': ATTR.updatedAt,
  '#ci': ATTR.computeId,
  '#et': ATTR.eventTime,
  '#x': ATTR.expiresAt,
});

/**
 * The TTL attribute follows the latest write (or merge): set for a category with a TTL, removed
 * otherwise. Adds its clause to `set` or `remove` and its value to `values`.
 */
export function followExpiry(expiresAt: string | undefined, set: string[], remove: string[], values: Record<string, unknown>): void {
  if (expiresAt === undefined) remove.push('#x');
  else {
    values[':x'] = ttlSeconds(expiresAt);
    set.push('#x = :x');
  }
}

export function recordUpdate(table: string, key: Item, input: WriteRecordInput, data: Item | Uint8Array): UpdateRequest {
  // The compute history shifts in the same expression (history.ts); nothing when it is off.
  const history = historyShift(input.historySize ?? 0, { compute_id: input.computeId, timestamp: input.now });
  const values: Record<string, unknown> = { ':data': data, ':now': input.now, ':cid': input.computeId, ...history.values };
  const lineage = lineageActions(input.computeId);
  const set = ['#f.#d = :data', '#f.#m.#u = :now', '#f.#m.#ci = :cid', '#f.#m.#c = if_not_exists(#f.#m.#c, :now)', ...history.set, ...lineage.set];
  const remove = [...lineage.remove];
  let condition = 'attribute_exists(#f.#m)';
  if (input.onlyIfComputeId !== undefined) {
    // A restore: conditional on the compute id, not on the event time (record-shapes.ts `onlyIfComputeId`).
    values[':only'] = input.onlyIfComputeId;
    condition += ' AND #f.#m.#ci = :only';
  }
  if (input.eventTime === undefined) {
    // A write without an event time leaves none stored (see WriteRecordInput.eventTime).
    remove.push('#f.#m.#et');
  } else {
    values[':et'] = input.eventTime;
    set.push('#f.#m.#et = :et');
    // Canonical timestamps compare correctly as strings.
    if (input.onlyIfComputeId === undefined) condition += ' AND (attribute_not_exists(#f.#m.#et) OR #f.#m.#et <= :et)';
  }
  followExpiry(input.expiresAt, set, remove, values);
  return {
    TableName: table,
    Key: key,
    UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: { ...RECORD_NAMES, ...history.names, ...lineage.names },
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/** The whole item of a new record. */
export function newRecordItem(key: Item, input: WriteRecordInput, data: Item | Uint8Array): Item {
  const meta: Item = { [ATTR.createdAt]: input.now, [ATTR.updatedAt]: input.now, [ATTR.computeId]: input.computeId };
  if (input.eventTime !== undefined) meta[ATTR.eventTime] = input.eventTime;
  const history = newHistory(input.historySize ?? 0, { compute_id: input.computeId, timestamp: input.now });
  const item: Item = { ...key, [ATTR.features]: { [ATTR.data]: data, [ATTR.meta]: meta }, ...history, ...newLineage(input.computeId, input.now) };
  if (input.expiresAt !== undefined) item[ATTR.expiresAt] = ttlSeconds(input.expiresAt);
  return item;
}

export function recordPut(table: string, entityType: string, item: Item): PutRequest {
  return {
    TableName: table,
    Item: item,
    ConditionExpression: 'attribute_not_exists(#k)',
    ExpressionAttributeNames: { '#k': entityType },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

export interface DeleteRequest {
  TableName: string;
  Key: Item;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/**
 * The delete of a record that was read first (its event names the deleted features), on the
 * condition that it is still the record read: the same `updated_at` (`updatedAt` as read), or a
 * record that has none when the one read had none.
 */
export function recordDelete(table: string, key: Item, updatedAt: unknown): DeleteRequest {
  const names = { '#f': ATTR.features, '#m': ATTR.meta, '#u': ATTR.updatedAt };
  return typeof updatedAt === 'string'
    ? { TableName: table, Key: key, ConditionExpression: '#f.#m.#u = :u', ExpressionAttributeNames: names, ExpressionAttributeValues: { ':u': updatedAt } }
    : { TableName: table, Key: key, ConditionExpression: 'attribute_exists(#f.#m) AND attribute_not_exists(#f.#m.#u)', ExpressionAttributeNames: names };
}

/**
 * Why a record action's condition failed, from the item it returned (raw attribute values):
 * - `missing`: no item, or the server returned none (then a put finds out);
 * - `stale`: the stored event time is later than the write's;
 * - `malformed`: the item exists but is not a record (no `features.meta`);
 * - `retry`: the item is a record that now satisfies the condition (it changed meanwhile).
 */
export type ConditionOutcome =
  | { kind: 'missing' }
  | { kind: 'stale'; storedEventTime: string }
  | { kind: 'malformed' }
  | { kind: 'retry' };

export function conditionOutcome(oldItem: unknown, eventTime: string | undefined): ConditionOutcome {
  if (oldItem === undefined || oldItem === null) return { kind: 'missing' };
  const state = oldRecordState(oldItem);
  if (!state.hasMeta) return { kind: 'malformed' };
  if (eventTime !== undefined && state.eventTime !== undefined && state.eventTime > eventTime) {
    return { kind: 'stale', storedEventTime: state.eventTime };
  }
  return { kind: 'retry' };
}

/**
 * A cancelled two-action transaction (record action first, outbox append second):
 * - `record`: the record action's condition failed, with the item it returned;
 * - `outboxFull`: the outbox item has no room for the event;
 * - `conflict`: another transaction on the same items was in progress; retry.
 * Undefined when `err` is not a cancelled transaction.
 */
export type CancelOutcome = { kind: 'record'; oldItem: unknown } | { kind: 'outboxFull' } | { kind: 'conflict' };

export function cancelOutcome(err: unknown): CancelOutcome | undefined {
  const reasons = cancelReasons(err);
  if (reasons === undefined) return undefined;
  const [record, outbox] = reasons;
  if (record?.code === 'ConditionalCheckFailed') return { kind: 'record', oldItem: record.item };
  if (outbox?.code === 'ConditionalCheckFailed') return { kind: 'outboxFull' };
  if (reasons.some((r) => r.code === 'TransactionConflict')) return { kind: 'conflict' };
  return undefined;
}

/** A write refused because the record's outbox item has no room for another event. */
export function outboxFull(): StoreUnavailableError {
  return new StoreUnavailableError(
    'Change events of this record are still waiting to be published and its outbox item has no room for another; retry later',
  );
}
