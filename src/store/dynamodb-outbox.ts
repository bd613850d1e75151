import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../errors.js';
import type { FeatureEvent, OutboxEvent } from '../model.js';
import { errorName, isConditionalCheckFailed, translateError } from './dynamodb-errors.js';
import { valueSize } from './dynamodb-item-size.js';
import { ATTR, OUTBOX_INDEX, OUTBOX_SHARDS, type Item } from './dynamodb-layout.js';
import type { OutboxStats, OutboxStore } from './feature-store.js';

/**
 * The outbox of the DynamoDB backend: pending change events live on the record's own item
 * (written by the same single UpdateItem/PutItem as the data, so both are durable or neither
 * is), and a sparse index finds the items that have any. See dynamodb-store.ts for the design.
 */

/** One pending event as stored in the item's `outbox_events` list. */
export interface StoredEvent {
  id: string;
  /** Kafka message key. */
  key: string;
  /** Order key: `<write time>#<per-process sequence>`; the index sorts items by their oldest. */
  at: string;
  /** The event as JSON text (stored as a string, so it round-trips byte for byte). */
  payload: string;
}

export interface PendingEvent {
  stored: StoredEvent;
  /** What the element adds to `outbox_bytes` (its DynamoDB size + 1 list element byte). */
  size: number;
  shard: string;
}

let sequence = 0;

/** The stored form of an event written at `now` to the record (entityValue, category). */
export function pendingEvent(event: OutboxEvent, now: string, entityValue: string, category: string): PendingEvent {
  sequence = (sequence + 1) % 1e12;
  const stored: StoredEvent = {
    id: event.id,
    key: event.key,
    at: `${now}#${String(sequence).padStart(12, '0')}`,
    payload: JSON.stringify(event.event),
  };
  return { stored, size: valueSize(stored) + 1, shard: shardOf(`${entityValue}\u0000${category}`) };
}

/** FNV-1a: a stable spread of records over the index shards. */
function shardOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return String((hash >>> 0) % OUTBOX_SHARDS);
}

function parseStoredEvents(value: unknown): StoredEvent[] {
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

export interface OutboxTable {
  entityType: string;
  table: string;
}

interface Entry {
  id: string;
  at: string;
  size: number;
}

/** A relay's hold on one item's events. */
interface Lease {
  table: string;
  key: Item;
  owner: string;
  until: number;
  /** The item's pending events as last seen, in list order; indexes address the stored list. */
  entries: Entry[];
}

interface Candidate {
  table: string;
  key: Item;
  at: string;
}

const LEASE_CONCURRENCY = 32;
const REMOVE_BATCH = 40;
const REMOVE_ROUNDS = 8;
const CANDIDATE_PAGES = 3;
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
const REMOVE_ALL_NAMES = { ...REMOVE_SOME_NAMES, '#os': ATTR.shard };

function entryOf(e: StoredEvent): Entry {
  return { id: e.id, at: e.at, size: valueSize(e) + 1 };
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
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
  readonly #tables: readonly OutboxTable[];
  readonly #isOpen: () => boolean;
  readonly #leases = new Map<string, Lease>();

  constructor(doc: DynamoDBDocumentClient, tables: readonly OutboxTable[], isOpen: () => boolean) {
    this.#doc = doc;
    this.#tables = tables;
    this.#isOpen = isOpen;
  }

  async claim(owner: string, limit: number, leaseMs: number): Promise<OutboxEvent[]> {
    this.#assertOpen();
    if (limit <= 0) return [];
    const now = Date.now();
    const until = now + leaseMs;
    this.#forgetExpired(now);
    const candidates = await this.#candidates(now, limit);
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
    const perShard = await Promise.all(
      this.#tables.flatMap(({ table }) =>
        Array.from({ length: OUTBOX_SHARDS }, async (_, shard) => {
          let pending = 0;
          let oldest: string | null = null;
          let startKey: Item | undefined;
          do {
            const res = await this.#query(table, {
              KeyConditionExpression: '#os = :s',
              ProjectionExpression: '#on, #oa',
              ExpressionAttributeNames: { '#os': ATTR.shard, '#on': ATTR.count, '#oa': ATTR.at },
              ExpressionAttributeValues: { ':s': String(shard) },
              ExclusiveStartKey: startKey,
            });
            for (const item of res.Items ?? []) {
              const count: unknown = item[ATTR.count];
              pending += typeof count === 'number' ? count : 1;
              const at: unknown = item[ATTR.at];
              if (typeof at === 'string' && (oldest === null || at < oldest)) oldest = at;
            }
            startKey = res.LastEvaluatedKey;
          } while (startKey !== undefined);
          return { pending, oldest };
        }),
      ),
    );
    let pending = 0;
    let oldest: string | null = null;
    for (const s of perShard) {
      pending += s.pending;
      if (s.oldest !== null && (oldest === null || s.oldest < oldest)) oldest = s.oldest;
    }
    return { pending, oldestCreatedAt: oldest === null ? null : (oldest.split('#')[0] ?? oldest) };
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

  async #query(table: string, input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName' | 'IndexName'>) {
    try {
      return await this.#doc.send(new QueryCommand({ TableName: table, IndexName: OUTBOX_INDEX, ...input }));
    } catch (err) {
      if (errorName(err) === 'ValidationException') {
        throw new StoreUnavailableError(
          `DynamoDB table '${table}' has no index '${OUTBOX_INDEX}'; run \`feature-store tables create\``,
          err,
        );
      }
      throw translateError(err, table);
    }
  }

  /** Items with pending, unleased events, oldest first; at most `limit` (each has ≥ 1 event). */
  async #candidates(now: number, limit: number): Promise<Candidate[]> {
    const lists = await Promise.all(
      this.#tables.flatMap(({ entityType, table }) =>
        Array.from({ length: OUTBOX_SHARDS }, async (_, shard) => {
          const found: Candidate[] = [];
          let startKey: Item | undefined;
          for (let page = 0; page < CANDIDATE_PAGES && found.length < limit; page++) {
            const res = await this.#query(table, {
              KeyConditionExpression: '#os = :s',
              FilterExpression: 'attribute_not_exists(#lu) OR #lu < :now',
              ExpressionAttributeNames: { '#os': ATTR.shard, '#lu': ATTR.leaseUntil },
              ExpressionAttributeValues: { ':s': String(shard), ':now': now },
              Limit: limit,
              ExclusiveStartKey: startKey,
            });
            for (const item of res.Items ?? []) {
              const value: unknown = item[entityType];
              const category: unknown = item[ATTR.category];
              const at: unknown = item[ATTR.at];
              if (typeof value === 'string' && typeof category === 'string' && typeof at === 'string') {
                found.push({ table, key: { [entityType]: value, [ATTR.category]: category }, at });
              }
            }
            startKey = res.LastEvaluatedKey;
            if (startKey === undefined) break;
          }
          return found;
        }),
      ),
    );
    return lists
      .flat()
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
      .slice(0, limit);
  }

  async #lease(c: Candidate, owner: string, now: number, until: number): Promise<{ lease: Lease; events: StoredEvent[] } | undefined> {
    try {
      const res = await this.#doc.send(
        new UpdateCommand({
          TableName: c.table,
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
      return { lease: { table: c.table, key: c.key, owner: owner.slice(0, 256), until, entries: events.map(entryOf) }, events };
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined; // another relay got it, or it was emptied
      throw translateError(err, c.table);
    }
  }

  /** Ends this relay's lease, if it still holds it. */
  async #unlease(lease: Lease): Promise<void> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: lease.table,
          Key: lease.key,
          UpdateExpression: 'REMOVE #lu, #lo',
          ConditionExpression: '#lo = :owner AND #lu = :until',
          ExpressionAttributeNames: { '#lu': ATTR.leaseUntil, '#lo': ATTR.leaseOwner },
          ExpressionAttributeValues: { ':owner': lease.owner, ':until': lease.until },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return;
      throw translateError(err, lease.table);
    }
  }

  async #readEntries(lease: Lease): Promise<Entry[]> {
    try {
      const res = await this.#doc.send(
        new GetCommand({
          TableName: lease.table,
          Key: lease.key,
          ProjectionExpression: '#ev',
          ExpressionAttributeNames: { '#ev': ATTR.events },
          ConsistentRead: true,
        }),
      );
      return parseStoredEvents(res.Item?.[ATTR.events]).map(entryOf);
    } catch (err) {
      throw translateError(err, lease.table);
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
      let update: string;
      let names: Record<string, string> = REMOVE_SOME_NAMES;
      if (remaining.length === 0) {
        names = REMOVE_ALL_NAMES;
        conditions.push('size(#ev) = :len');
        values[':len'] = entries.length;
        update = 'REMOVE #ev, #on, #ob, #os, #oa, #lu, #lo';
      } else {
        const first = entries.findIndex((_, i) => !removed.has(i));
        conditions.push(`#ev[${first}].#id = :first`);
        values[':first'] = entries[first]?.id;
        values[':n'] = indexes.length;
        values[':bytes'] = indexes.reduce((sum, i) => sum + (entries[i]?.size ?? 0), 0);
        values[':at'] = entries[first]?.at;
        // Indexes name positions before the update; highest first also suits emulators that
        // apply removals one after another.
        const paths = [...indexes].reverse().map((i) => `#ev[${i}]`);
        update = `REMOVE ${paths.join(', ')}, #lu, #lo SET #on = #on - :n, #ob = #ob - :bytes, #oa = :at`;
      }
      try {
        await this.#doc.send(
          new UpdateCommand({
            TableName: lease.table,
            Key: lease.key,
            UpdateExpression: update,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        entries = remaining;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw translateError(err, lease.table);
        entries = await this.#readEntries(lease); // the list changed: look again
      }
      lease.entries = entries;
    }
    throw new StoreUnavailableError('Outbox events could not be removed after repeated conflicts; they will be published again');
  }
}
