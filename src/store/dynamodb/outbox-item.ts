import type { OutboxEvent } from '../../model.js';
import { valueSize } from './item-size.js';
import type { Item } from './layout.js';

/**
 * The outbox table (`DYNAMODB_OUTBOX_TABLE`, default `feature_store_outbox`): one item per
 * record key that has pending change events, written in the same TransactWriteItems as the
 * record (see write-protocol.ts), deleted by the relay once drained (see outbox.ts):
 *
 *   { entity_value: "user-1", record: "bright_uid/d0_unauth_features",
 *     events: [ { id, key, at, payload }, … ],   // pending events, in write order
 *     count, bytes, shard, at, lease_until?, lease_owner? }
 *
 * Key: partition `entity_value` (≤ 2,048 bytes, like the record's), sort `record` =
 * `<entity type>/<category>` (entity types are identifiers, so `/` cannot be part of one).
 * The GSI `outbox_pending` over (`shard`, `at`) finds items oldest first; every outbox item has
 * both attributes while it exists.
 *
 * Contract: events of one record key are appended with `list_append` inside transactions that
 * also write that record, and transactions on the same items serialize, so the list order is
 * the order in which the writes were applied. Nothing but the relay removes events; deleting or
 * expiring the record item never touches them.
 */
export const OUTBOX_ATTR = Object.freeze({
  entityValue: 'entity_value',
  record: 'record',
  events: 'events',
  /** Number of elements of `events` (projected into the index for `stats`). */
  count: 'count',
  /** Sum of the DynamoDB sizes of the elements of `events` (+1 each): the item's room. */
  bytes: 'bytes',
  /** Partition key of the index. */
  shard: 'shard',
  /** Sort key of the index: order key of the oldest pending event. */
  at: 'at',
  /** Epoch milliseconds until which a relay holds the item's events. */
  leaseUntil: 'lease_until',
  leaseOwner: 'lease_owner',
});

export const OUTBOX_INDEX = 'outbox_pending';
/**
 * Partition key values of the outbox index. A few shards spread index writes over several
 * partitions; every `claim` and `stats` queries all of them. Only ever increase this number
 * (items in a shard that is no longer queried would never be published).
 */
export const OUTBOX_SHARDS = 4;
/** Bytes kept free in an outbox item for its bookkeeping attributes and a relay's lease. */
const OUTBOX_RESERVE_BYTES = 1024;
const MAX_ITEM_BYTES = 400 * 1024;

/** One pending event as stored in the item's `events` list. */
export interface StoredEvent {
  id: string;
  /** Kafka message key. */
  key: string;
  /** Order key: `<write time>#<per-process sequence>`; the index sorts items by their oldest. */
  at: string;
  /** The event as JSON text (stored as a string, so it round-trips byte for byte). */
  payload: string;
}

/** An event ready to be appended to the outbox item of its record. */
export interface PendingEvent {
  key: Item;
  stored: StoredEvent;
  /** What the element adds to `bytes` (its DynamoDB size + 1 list element byte). */
  size: number;
  shard: string;
}

let sequence = 0;

export function outboxKey(entityType: string, entityValue: string, category: string): Item {
  return { [OUTBOX_ATTR.entityValue]: entityValue, [OUTBOX_ATTR.record]: `${entityType}/${category}` };
}

/** The stored form of an event written at `now` to the record (entityType, entityValue, category). */
export function pendingEvent(event: OutboxEvent, now: string, entityType: string, entityValue: string, category: string): PendingEvent {
  sequence = (sequence + 1) % 1e12;
  const stored: StoredEvent = {
    id: event.id,
    key: event.key,
    at: `${now}#${String(sequence).padStart(12, '0')}`,
    payload: JSON.stringify(event.event),
  };
  return {
    key: outboxKey(entityType, entityValue, category),
    stored,
    size: valueSize(stored) + 1,
    shard: shardOf(`${entityType}\u0000${entityValue}\u0000${category}`),
  };
}

/** FNV-1a: a stable spread of records over the index shards. */
function shardOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return String((hash >>> 0) % OUTBOX_SHARDS);
}

/** Whether one event can ever be stored (it must fit an empty outbox item). */
export function eventFits(pending: PendingEvent): boolean {
  return pending.size + OUTBOX_RESERVE_BYTES + 200 <= MAX_ITEM_BYTES;
}

/** A conditional UpdateItem, usable alone or as a transaction action. */
export interface UpdateAction {
  TableName: string;
  Key: Item;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/**
 * The transaction action that appends `pending` to its outbox item (creating the item when
 * absent). It is refused (ConditionalCheckFailed) when the events already waiting leave no
 * room for it: back-pressure while the broker is down, never a dropped event.
 */
export function appendAction(table: string, pending: PendingEvent): UpdateAction {
  return {
    TableName: table,
    Key: pending.key,
    UpdateExpression:
      'SET #ev = list_append(if_not_exists(#ev, :empty), :evs), #on = if_not_exists(#on, :zero) + :one' +
      ', #ob = if_not_exists(#ob, :zero) + :size, #os = if_not_exists(#os, :shard), #oa = if_not_exists(#oa, :at)',
    ConditionExpression: 'attribute_not_exists(#ob) OR #ob <= :room',
    ExpressionAttributeNames: {
      '#ev': OUTBOX_ATTR.events,
      '#on': OUTBOX_ATTR.count,
      '#ob': OUTBOX_ATTR.bytes,
      '#os': OUTBOX_ATTR.shard,
      '#oa': OUTBOX_ATTR.at,
    },
    ExpressionAttributeValues: {
      ':evs': [pending.stored],
      ':empty': [],
      ':zero': 0,
      ':one': 1,
      ':size': pending.size,
      ':shard': pending.shard,
      ':at': pending.stored.at,
      ':room': MAX_ITEM_BYTES - OUTBOX_RESERVE_BYTES - pending.size,
    },
  };
}

export function parseStoredEvents(value: unknown): StoredEvent[] {
  if (!Array.isArray(value)) return [];
  const events: StoredEvent[] = [];
  for (const element of value as unknown[]) {
    if (typeof element !== 'object' || element === null) continue;
    const e = element as Record<string, unknown>;
    if (typeof e.id === 'string' && typeof e.key === 'string' && typeof e.at === 'string' && typeof e.payload === 'string') {
      events.push({ id: e.id, key: e.key, at: e.at, payload: e.payload });
    }
  }
  return events;
}
