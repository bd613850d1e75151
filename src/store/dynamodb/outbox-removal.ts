import type { FeatureEvent } from '../../model.js';
import { countedWriteOf, type CountedWrite } from '../job-writes.js';
import { valueSize } from './item-size.js';
import type { Item } from './layout.js';
import { OUTBOX_ATTR as ATTR, type StoredEvent, type UpdateAction } from './outbox-item.js';

/**
 * The outbox relay's removal requests (outbox.ts): which of a leased item's events a request
 * removes, the conditions that make it safe against events appended or removed meanwhile, and
 * how removals are grouped into transactions.
 */

/** Events removed per request; DynamoDB bounds an expression's size. */
export const REMOVE_BATCH = 40;
/** DynamoDB's limit of actions per TransactWriteItems. */
const MAX_TRANSACTION_ACTIONS = 100;

export interface Entry {
  id: string;
  at: string;
  size: number;
  /** The write the event stands for, when it counts in the job statistics. */
  write: CountedWrite | undefined;
}

/** One conditional request that removes some of a lease's events (see `removalOf`). */
export interface Removal {
  lease: Lease;
  /** A DeleteItem (the item is drained) or an UpdateItem, as a transaction action. */
  action: { Delete: Omit<UpdateAction, 'UpdateExpression'> } | { Update: UpdateAction };
  removed: Entry[];
  remaining: Entry[];
}

/** A relay's hold on one item's events. */
export interface Lease {
  key: Item;
  owner: string;
  until: number;
  /** The item's pending events as last seen, in list order; indexes address the stored list. */
  entries: Entry[];
}

// DynamoDB refuses names an expression does not use, so each update lists exactly its own.
const REMOVE_SOME_NAMES = {
  '#ev': ATTR.events,
  '#id': 'id',
  '#on': ATTR.count,
  '#ob': ATTR.bytes,
  '#oa': ATTR.at,
  '#lu': ATTR.leaseUntil,
  '#lo': ATTR.leaseOwner,
};
const DELETE_NAMES = { '#ev': ATTR.events, '#id': 'id' };

export function entryOf(e: StoredEvent): Entry {
  let write: CountedWrite | undefined;
  try {
    write = countedWriteOf(JSON.parse(e.payload) as FeatureEvent);
  } catch {
    write = undefined; // not JSON: published as it is, counted nowhere
  }
  return { id: e.id, at: e.at, size: valueSize(e) + 1, write };
}

/**
 * The next conditional request removing (some of) the events `ids` from the lease's item, and
 * the lease with them (so events appended while this relay published become claimable at
 * once); undefined when none of them is left. When no event would remain, the item is deleted
 * (which takes it out of the index), unless events were appended meanwhile.
 */
export function removalOf(table: string, lease: Lease, ids: ReadonlySet<string>): Removal | undefined {
  const entries = lease.entries;
  const indexes: number[] = [];
  entries.forEach((e, i) => {
    if (ids.has(e.id) && indexes.length < REMOVE_BATCH) indexes.push(i);
  });
  if (indexes.length === 0) return undefined;
  const removedAt = new Set(indexes);
  const removed = indexes.map((i) => entries[i] as Entry);
  const remaining = entries.filter((_, i) => !removedAt.has(i));
  const values: Record<string, unknown> = {};
  const conditions = ['attribute_exists(#ev)'];
  indexes.forEach((i, n) => {
    values[`:r${n}`] = entries[i]?.id;
    conditions.push(`#ev[${i}].#id = :r${n}`);
  });
  if (remaining.length === 0) {
    conditions.push('size(#ev) = :len');
    values[':len'] = entries.length;
    const del = { TableName: table, Key: lease.key, ConditionExpression: conditions.join(' AND '), ExpressionAttributeNames: DELETE_NAMES, ExpressionAttributeValues: values };
    return { lease, action: { Delete: del }, removed, remaining };
  }
  const first = entries.findIndex((_, i) => !removedAt.has(i));
  conditions.push(`#ev[${first}].#id = :first`);
  values[':first'] = entries[first]?.id;
  values[':n'] = indexes.length;
  values[':bytes'] = indexes.reduce((sum, i) => sum + (entries[i]?.size ?? 0), 0);
  values[':at'] = entries[first]?.at;
  // Indexes name positions before the update; highest first also suits emulators that
  // apply removals one after another.
  const paths = [...indexes].reverse().map((i) => `#ev[${i}]`);
  const update: UpdateAction = {
    TableName: table,
    Key: lease.key,
    UpdateExpression: `REMOVE ${paths.join(', ')}, #lu, #lo SET #on = #on - :n, #ob = #ob - :bytes, #oa = :at`,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: REMOVE_SOME_NAMES,
    ExpressionAttributeValues: values,
  };
  return { lease, action: { Update: update }, removed, remaining };
}


/** Removals grouped into transactions of at most `MAX_TRANSACTION_ACTIONS` (items + jobs). */
export function transactionChunks(removals: readonly Removal[]): Removal[][] {
  const chunks: Removal[][] = [];
  let chunk: Removal[] = [];
  let jobs = new Set<string>();
  for (const r of removals) {
    const more = new Set(jobs);
    for (const e of r.removed) if (e.write !== undefined) more.add(e.write.computeId);
    if (chunk.length > 0 && chunk.length + 1 + more.size > MAX_TRANSACTION_ACTIONS) {
      chunks.push(chunk);
      chunk = [];
      jobs = new Set();
      for (const e of r.removed) if (e.write !== undefined) jobs.add(e.write.computeId);
    } else {
      jobs = more;
    }
    chunk.push(r);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
