import { DeleteCommand, GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../errors.js';
import type { FeatureEvent, OutboxEvent } from '../../model.js';
import type { OutboxStats, OutboxStore } from '../ports.js';
import { countedWriteOf, JobWritesSum, type CountedWrite } from '../job-writes.js';
import { addCountsAction, DynamoDbComputeJobs } from './compute-jobs.js';
import { cancelReasons, isConditionalCheckFailed, translateError } from './errors.js';
import { valueSize } from './item-size.js';
import type { Item } from './layout.js';
import { indexCandidates, indexQuery, indexStats, type Candidate, type IndexQuery } from './outbox-index.js';
import { OUTBOX_ATTR as ATTR, parseStoredEvents, type StoredEvent, type UpdateAction } from './outbox-item.js';
import { mapLimit } from './map-limit.js';

/**
 * The relay side of the DynamoDB outbox (the `OutboxStore` port) on the outbox table (layout in
 * outbox-item.ts). Writers append events there in the record's own transaction; relays find
 * items through the `outbox_pending` index, lease a whole item, publish its events in list
 * order, and remove exactly the published ones. Delivery is at-least-once.
 */
interface Entry {
  id: string;
  at: string;
  size: number;
  /** The write the event stands for, when it counts in the job statistics. */
  write: CountedWrite | undefined;
}

/** One conditional request that removes some of a lease's events (see `#removal`). */
interface Removal {
  lease: Lease;
  /** A DeleteItem (the item is drained) or an UpdateItem, as a transaction action. */
  action: { Delete: Omit<UpdateAction, 'UpdateExpression'> } | { Update: UpdateAction };
  removed: Entry[];
  remaining: Entry[];
}

/** A relay's hold on one item's events. */
interface Lease {
  key: Item;
  owner: string;
  until: number;
  /** The item's pending events as last seen, in list order; indexes address the stored list. */
  entries: Entry[];
}

const LEASE_CONCURRENCY = 32;
const REMOVE_BATCH = 40;
const REMOVE_ROUNDS = 8;
/** DynamoDB's limit of actions per TransactWriteItems. */
const MAX_TRANSACTION_ACTIONS = 100;
/** Claims whose lease ended this long ago are forgotten (their events are claimable again). */
const FORGET_AFTER_MS = 10 * 60_000;

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

function entryOf(e: StoredEvent): Entry {
  let write: CountedWrite | undefined;
  try {
    write = countedWriteOf(JSON.parse(e.payload) as FeatureEvent);
  } catch {
    write = undefined; // not JSON: published as it is, counted nowhere
  }
  return { id: e.id, at: e.at, size: valueSize(e) + 1, write };
}

/**
 * `claim` leases whole items (all of a record's pending events go to one relay at a time, which
 * keeps a record's events in order); `complete` removes exactly the published events by list
 * index, conditioned on the ids still being at those indexes, so events appended meanwhile (or
 * removed by another relay whose lease had expired) are never lost. Which item an event id
 * belongs to is remembered from `claim`, so `complete` and `release` must be called on the
 * store that claimed (each relay uses its own process's store); unknown ids are ignored.
 */
export class DynamoDbOutbox implements OutboxStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #isOpen: () => boolean;
  readonly #leases = new Map<string, Lease>();
  readonly #query: IndexQuery;
  readonly #jobs: DynamoDbComputeJobs;

  constructor(doc: DynamoDBDocumentClient, table: string, isOpen: () => boolean, jobs: DynamoDbComputeJobs) {
    this.#doc = doc;
    this.#table = table;
    this.#isOpen = isOpen;
    this.#query = indexQuery(doc, table);
    this.#jobs = jobs;
  }

  async claim(owner: string, limit: number, leaseMs: number): Promise<OutboxEvent[]> {
    this.#assertOpen();
    if (limit <= 0) return [];
    const now = Date.now();
    const until = now + leaseMs;
    this.#forgetExpired(now);
    const candidates = await indexCandidates(this.#query, now, limit);
    const taken: { event: OutboxEvent; order: string }[] = [];
    let next = 0;
    while (taken.length < limit && next < candidates.length) {
      const chunk = candidates.slice(next, next + Math.min(LEASE_CONCURRENCY, limit - taken.length));
      next += chunk.length;
      const leased = await Promise.all(chunk.map((c) => this.#lease(c, owner, now, until)));
      const unused: Lease[] = [];
      for (const result of leased) {
        if (result === undefined) continue;
        const room = limit - taken.length;
        if (room === 0) {
          unused.push(result.lease);
          continue;
        }
        // A running maximum keeps one record's events in list order through the final sort,
        // even if writers' clocks disagree.
        let order = '';
        for (const stored of result.events.slice(0, room)) {
          if (stored.at > order) order = stored.at;
          taken.push({ event: { id: stored.id, key: stored.key, event: JSON.parse(stored.payload) as FeatureEvent }, order });
          this.#leases.set(stored.id, result.lease);
        }
      }
      await Promise.all(unused.map((lease) => this.#unlease(lease)));
    }
    taken.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    return taken.map((t) => t.event);
  }

  async complete(ids: readonly string[]): Promise<void> {
    this.#assertOpen();
    const groups = this.#group(ids);
    if ([...groups].some(([lease, set]) => lease.entries.some((e) => e.write !== undefined && set.has(e.id)))) {
      await this.#removeCounting(groups);
      return;
    }
    await mapLimit([...groups], LEASE_CONCURRENCY, async ([lease, set]) => {
      await this.#remove(lease, set);
      for (const id of set) this.#leases.delete(id);
    });
  }

  async release(ids: readonly string[]): Promise<void> {
    this.#assertOpen();
    const groups = this.#group(ids);
    await mapLimit([...groups], LEASE_CONCURRENCY, async ([lease, set]) => {
      await this.#unlease(lease);
      for (const id of set) this.#leases.delete(id);
    });
  }

  async stats(): Promise<OutboxStats> {
    this.#assertOpen();
    return indexStats(this.#query);
  }

  #assertOpen(): void {
    if (!this.#isOpen()) throw new StoreUnavailableError();
  }

  #group(ids: readonly string[]): Map<Lease, Set<string>> {
    const groups = new Map<Lease, Set<string>>();
    for (const id of ids) {
      const lease = this.#leases.get(id);
      if (lease === undefined) continue;
      let set = groups.get(lease);
      if (set === undefined) groups.set(lease, (set = new Set()));
      set.add(id);
    }
    return groups;
  }

  #forgetExpired(now: number): void {
    for (const [id, lease] of this.#leases) {
      if (lease.until + FORGET_AFTER_MS < now) this.#leases.delete(id);
    }
  }

  async #lease(c: Candidate, owner: string, now: number, until: number): Promise<{ lease: Lease; events: StoredEvent[] } | undefined> {
    try {
      const res = await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: c.key,
          UpdateExpression: 'SET #lu = :until, #lo = :owner',
          // attribute_exists first: moto fails on size() of a missing attribute (DynamoDB: false).
          ConditionExpression: 'attribute_exists(#ev) AND size(#ev) > :zero AND (attribute_not_exists(#lu) OR #lu < :now)',
          ExpressionAttributeNames: { '#ev': ATTR.events, '#lu': ATTR.leaseUntil, '#lo': ATTR.leaseOwner },
          ExpressionAttributeValues: { ':until': until, ':owner': owner.slice(0, 256), ':zero': 0, ':now': now },
          // UPDATED_NEW would not include the events, which this update does not change.
          ReturnValues: 'ALL_NEW',
        }),
      );
      const events = parseStoredEvents(res.Attributes?.[ATTR.events]);
      return { lease: { key: c.key, owner: owner.slice(0, 256), until, entries: events.map(entryOf) }, events };
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined; // another relay got it, or it was emptied
      throw translateError(err, this.#table);
    }
  }

  /** Ends this relay's lease, if it still holds it. */
  async #unlease(lease: Lease): Promise<void> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: lease.key,
          UpdateExpression: 'REMOVE #lu, #lo',
          ConditionExpression: '#lo = :owner AND #lu = :until',
          ExpressionAttributeNames: { '#lu': ATTR.leaseUntil, '#lo': ATTR.leaseOwner },
          ExpressionAttributeValues: { ':owner': lease.owner, ':until': lease.until },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return;
      throw translateError(err, this.#table);
    }
  }

  async #readEntries(lease: Lease): Promise<Entry[]> {
    try {
      const res = await this.#doc.send(
        new GetCommand({
          TableName: this.#table,
          Key: lease.key,
          ProjectionExpression: '#ev',
          ExpressionAttributeNames: { '#ev': ATTR.events },
          ConsistentRead: true,
        }),
      );
      return parseStoredEvents(res.Item?.[ATTR.events]).map(entryOf);
    } catch (err) {
      throw translateError(err, this.#table);
    }
  }

  /**
   * The next conditional request removing (some of) the events `ids` from the lease's item, and
   * the lease with them (so events appended while this relay published become claimable at
   * once); undefined when none of them is left. When no event would remain, the item is deleted
   * (which takes it out of the index), unless events were appended meanwhile.
   */
  #removal(lease: Lease, ids: ReadonlySet<string>): Removal | undefined {
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
      const del = { TableName: this.#table, Key: lease.key, ConditionExpression: conditions.join(' AND '), ExpressionAttributeNames: DELETE_NAMES, ExpressionAttributeValues: values };
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
      TableName: this.#table,
      Key: lease.key,
      UpdateExpression: `REMOVE ${paths.join(', ')}, #lu, #lo SET #on = #on - :n, #ob = #ob - :bytes, #oa = :at`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: REMOVE_SOME_NAMES,
      ExpressionAttributeValues: values,
    };
    return { lease, action: { Update: update }, removed, remaining };
  }

  /** Removes the events `ids` from the lease's item, one conditional request at a time. */
  async #remove(lease: Lease, ids: ReadonlySet<string>): Promise<void> {
    const rounds = Math.ceil(ids.size / REMOVE_BATCH) + REMOVE_ROUNDS;
    for (let round = 0; round < rounds; round++) {
      const removal = this.#removal(lease, ids);
      if (removal === undefined) return;
      try {
        if ('Delete' in removal.action) await this.#doc.send(new DeleteCommand(removal.action.Delete));
        else await this.#doc.send(new UpdateCommand(removal.action.Update));
        lease.entries = removal.remaining;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw translateError(err, this.#table);
        lease.entries = await this.#readEntries(lease); // the list changed: look again
      }
    }
    throw new StoreUnavailableError('Outbox events could not be removed after repeated conflicts; they will be published again');
  }

  /**
   * `complete` when some events count in the job statistics: each TransactWriteItems removes
   * events from several items and ADDs their counts to the job items, so an event is counted
   * exactly when it leaves the outbox. Transactions run one after another (they would conflict
   * on the job items); a cancelled one is rebuilt from a fresh read of the items whose
   * condition failed. The first and last write times are set just before (idempotent).
   */
  async #removeCounting(groups: Map<Lease, Set<string>>): Promise<void> {
    let pending = [...groups];
    const most = Math.max(...pending.map(([, set]) => set.size));
    for (let round = 0; round < Math.ceil(most / REMOVE_BATCH) + REMOVE_ROUNDS; round++) {
      const removals = pending.map(([lease, set]) => this.#removal(lease, set)).filter((r): r is Removal => r !== undefined);
      if (removals.length === 0) return;
      for (const chunk of transactionChunks(removals)) await this.#transactRemovals(chunk);
      pending = pending.filter(([lease, set]) => lease.entries.some((e) => set.has(e.id)));
    }
    throw new StoreUnavailableError('Outbox events could not be removed after repeated conflicts; they will be published again');
  }

  async #transactRemovals(chunk: Removal[]): Promise<void> {
    const sum = new JobWritesSum();
    for (const r of chunk) for (const e of r.removed) if (e.write !== undefined) sum.add(e.write);
    const jobs = sum.drain();
    await this.#jobs.setTimes(jobs);
    try {
      await this.#doc.send(
        new TransactWriteCommand({
          TransactItems: [...chunk.map((r) => r.action), ...jobs.map((w) => ({ Update: addCountsAction(this.#table, w) }))],
        }),
      );
      for (const r of chunk) r.lease.entries = r.remaining;
    } catch (err) {
      const reasons = cancelReasons(err);
      if (reasons === undefined) throw translateError(err, this.#table);
      if (reasons.some((r) => r.code === 'ThrottlingError' || r.code === 'ProvisionedThroughputExceeded')) throw translateError(err, this.#table);
      // A failed condition: that item's list changed (look again); a conflict: just retry.
      await Promise.all(
        chunk.map(async (r, i) => {
          if (reasons[i]?.code === 'ConditionalCheckFailed') r.lease.entries = await this.#readEntries(r.lease);
        }),
      );
    }
  }
}

/** Removals grouped into transactions of at most `MAX_TRANSACTION_ACTIONS` (items + jobs). */
function transactionChunks(removals: readonly Removal[]): Removal[][] {
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
