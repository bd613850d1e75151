import { DeleteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../errors.js';
import type { FeatureEvent, OutboxEvent } from '../../model.js';
import type { OutboxStats, OutboxStore } from '../ports.js';
import { isConditionalCheckFailed, translateError } from './errors.js';
import { valueSize } from './item-size.js';
import type { Item } from './layout.js';
import { indexCandidates, indexQuery, indexStats, type Candidate, type IndexQuery } from './outbox-index.js';
import { OUTBOX_ATTR as ATTR, parseStoredEvents, type StoredEvent } from './outbox-item.js';
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
  return { id: e.id, at: e.at, size: valueSize(e) + 1 };
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

  constructor(doc: DynamoDBDocumentClient, table: string, isOpen: () => boolean) {
    this.#doc = doc;
    this.#table = table;
    this.#isOpen = isOpen;
    this.#query = indexQuery(doc, table);
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
   * Removes the events `ids` from the item, and the lease with them (so events appended while
   * this relay published become claimable at once). When no event remains, the outbox
   * attributes go too, which takes the item out of the index.
   */
  async #remove(lease: Lease, ids: ReadonlySet<string>): Promise<void> {
    let entries = lease.entries;
    const rounds = Math.ceil(ids.size / REMOVE_BATCH) + REMOVE_ROUNDS;
    for (let round = 0; round < rounds; round++) {
      const indexes: number[] = [];
      entries.forEach((e, i) => {
        if (ids.has(e.id) && indexes.length < REMOVE_BATCH) indexes.push(i);
      });
      if (indexes.length === 0) return;
      const removed = new Set(indexes);
      const remaining = entries.filter((_, i) => !removed.has(i));
      const values: Record<string, unknown> = {};
      const conditions = ['attribute_exists(#ev)'];
      indexes.forEach((i, n) => {
        values[`:r${n}`] = entries[i]?.id;
        conditions.push(`#ev[${i}].#id = :r${n}`);
      });
      if (remaining.length === 0) {
        // Drained: the item goes (and with it its index entry), unless events were appended.
        conditions.push('size(#ev) = :len');
        values[':len'] = entries.length;
        if (await this.#deleteDrained(lease, conditions, values)) return;
        entries = await this.#readEntries(lease);
        lease.entries = entries;
        continue;
      }
      const first = entries.findIndex((_, i) => !removed.has(i));
      conditions.push(`#ev[${first}].#id = :first`);
      values[':first'] = entries[first]?.id;
      values[':n'] = indexes.length;
      values[':bytes'] = indexes.reduce((sum, i) => sum + (entries[i]?.size ?? 0), 0);
      values[':at'] = entries[first]?.at;
      // Indexes name positions before the update; highest first also suits emulators that
      // apply removals one after another.
      const paths = [...indexes].reverse().map((i) => `#ev[${i}]`);
      const update = `REMOVE ${paths.join(', ')}, #lu, #lo SET #on = #on - :n, #ob = #ob - :bytes, #oa = :at`;
      const names = REMOVE_SOME_NAMES;
      try {
        await this.#doc.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: lease.key,
            UpdateExpression: update,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        entries = remaining;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw translateError(err, this.#table);
        entries = await this.#readEntries(lease); // the list changed: look again
      }
      lease.entries = entries;
    }
    throw new StoreUnavailableError('Outbox events could not be removed after repeated conflicts; they will be published again');
  }

  /** Deletes the drained item if `conditions` still hold; false when the list changed. */
  async #deleteDrained(lease: Lease, conditions: string[], values: Record<string, unknown>): Promise<boolean> {
    try {
      await this.#doc.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: lease.key,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: DELETE_NAMES,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw translateError(err, this.#table);
      return false;
    }
  }
}
