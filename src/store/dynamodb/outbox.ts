import { DeleteCommand, GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../errors.js';
import { outboxEventFromText, type FeatureEvent, type OutboxEvent } from '../../model.js';
import type { OutboxStats, OutboxStore } from '../ports.js';
import { JobWritesSum } from '../job-writes.js';
import { addCountsAction, DynamoDbComputeJobs } from './compute-jobs.js';
import { cancelReasons, isConditionalCheckFailed, translateError } from './errors.js';
import { indexCandidates, indexQuery, indexStats, type Candidate, type IndexQuery } from './outbox-index.js';
import { OUTBOX_ATTR as ATTR, parseStoredEvents, type StoredEvent } from './outbox-item.js';
import { entryOf, removalOf, REMOVE_BATCH, transactionChunks, type Entry, type Lease, type Removal } from './outbox-removal.js';
import { mapLimit } from './map-limit.js';

/**
 * The relay side of the DynamoDB outbox (the `OutboxStore` port) on the outbox table (layout in
 * outbox-item.ts). Writers append events there in the record's own transaction; relays find
 * items through the `outbox_pending` index, lease a whole item, publish its events in list
 * order, and remove exactly the published ones (outbox-removal.ts). Delivery is at-least-once.
 */

const LEASE_CONCURRENCY = 32;
const REMOVE_ROUNDS = 8;
/** Claims whose lease ended this long ago are forgotten (their events are claimable again). */
const FORGET_AFTER_MS = 10 * 60_000;

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
          taken.push({ event: outboxEventFromText(stored.id, stored.key, JSON.parse(stored.payload) as FeatureEvent, stored.payload), order });
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

  /** Removes the events `ids` from the lease's item, one conditional request at a time. */
  async #remove(lease: Lease, ids: ReadonlySet<string>): Promise<void> {
    const rounds = Math.ceil(ids.size / REMOVE_BATCH) + REMOVE_ROUNDS;
    for (let round = 0; round < rounds; round++) {
      const removal = removalOf(this.#table, lease, ids);
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
      const removals = pending.map(([lease, set]) => removalOf(this.#table, lease, set)).filter((r): r is Removal => r !== undefined);
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
