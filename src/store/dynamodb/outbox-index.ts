import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../errors.js';
import type { OutboxStats } from '../ports.js';
import { errorName, translateError } from './errors.js';
import type { Item } from './layout.js';
import { OUTBOX_ATTR as ATTR, OUTBOX_INDEX, OUTBOX_SHARDS } from './outbox-item.js';

/**
 * Reads of the outbox table's `outbox_pending` index (shard, oldest pending event): which items
 * have events to publish, and how many are pending. Every shard is queried; an item is in the
 * index exactly while it exists (the relay deletes drained items).
 */
export type IndexQuery = (input: Omit<QueryCommandInput, 'TableName' | 'IndexName'>) => Promise<QueryCommandOutput>;

/** An outbox item with pending events, by its key and the order key of its oldest event. */
export interface Candidate {
  key: Item;
  at: string;
}

const CANDIDATE_PAGES = 3;

export function indexQuery(doc: DynamoDBDocumentClient, table: string): IndexQuery {
  return async (input) => {
    try {
      return await doc.send(new QueryCommand({ TableName: table, IndexName: OUTBOX_INDEX, ...input }));
    } catch (err) {
      if (errorName(err) === 'ValidationException') {
        throw new StoreUnavailableError(`DynamoDB table '${table}' has no index '${OUTBOX_INDEX}'; run \`feature-store tables create\``, err);
      }
      throw translateError(err, table);
    }
  };
}

/** Pending events (the sum of the items' `count`) and the oldest one's time, from the index alone. */
export async function indexStats(query: IndexQuery): Promise<OutboxStats> {
  const perShard = await Promise.all(
      Array.from({ length: OUTBOX_SHARDS }, async (_, shard) => {
        let pending = 0;
        let oldest: string | null = null;
        let startKey: Item | undefined;
        do {
          const res = await query({
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
  );
  let pending = 0;
  let oldest: string | null = null;
  for (const s of perShard) {
    pending += s.pending;
    if (s.oldest !== null && (oldest === null || s.oldest < oldest)) oldest = s.oldest;
  }
  return { pending, oldestCreatedAt: oldest === null ? null : (oldest.split('#')[0] ?? oldest) };
}

  /** Items with pending, unleased events, oldest first; at most `limit` (each has ≥ 1 event). */
export async function indexCandidates(query: IndexQuery, now: number, limit: number): Promise<Candidate[]> {
  const lists = await Promise.all(
      Array.from({ length: OUTBOX_SHARDS }, async (_, shard) => {
        const found: Candidate[] = [];
        let startKey: Item | undefined;
        for (let page = 0; page < CANDIDATE_PAGES && found.length < limit; page++) {
          const res = await query({
            KeyConditionExpression: '#os = :s',
            FilterExpression: 'attribute_not_exists(#lu) OR #lu < :now',
            ExpressionAttributeNames: { '#os': ATTR.shard, '#lu': ATTR.leaseUntil },
            ExpressionAttributeValues: { ':s': String(shard), ':now': now },
            Limit: limit,
            ExclusiveStartKey: startKey,
          });
          for (const item of res.Items ?? []) {
            const value: unknown = item[ATTR.entityValue];
            const record: unknown = item[ATTR.record];
            const at: unknown = item[ATTR.at];
            if (typeof value === 'string' && typeof record === 'string' && typeof at === 'string') {
              found.push({ key: { [ATTR.entityValue]: value, [ATTR.record]: record }, at });
            }
          }
          startKey = res.LastEvaluatedKey;
          if (startKey === undefined) break;
        }
        return found;
      }),
  );
  return lists
    .flat()
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .slice(0, limit);
}
