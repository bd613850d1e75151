import { StoreThrottledError } from '../../errors.js';
import type { RecordTransport } from './direct-transport.js';
import { translateError } from './errors.js';
import { batchGetItem, type BatchGetRequest } from './fast-io.js';
import { ATTR, type Item } from './layout.js';

/**
 * Batch reads: `BatchGetItem` takes at most 100 keys per request (over any number of tables).
 * Chunks are issued in parallel; keys DynamoDB leaves unprocessed (throttling, the 16 MB
 * response limit) are retried with full-jitter exponential backoff, and after
 * BATCH_GET_ATTEMPTS rounds the read fails with `StoreThrottledError` (503) rather than
 * returning a partial answer that would look like missing records.
 */
export const BATCH_GET_KEYS = 100;
const BATCH_GET_ATTEMPTS = 8;
const BACKOFF_BASE_MS = 25;
const BACKOFF_CAP_MS = 1000;

export interface TableKeys {
  table: string;
  /** Name of the table's partition key attribute (the entity type). */
  partitionKey: string;
  keys: Item[];
}

/** Projection: key, category and `features` only, so no other attribute ever leaks into a read. */
export function readProjection(partitionKey: string): { ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> } {
  return { ProjectionExpression: '#k, #c, #f', ExpressionAttributeNames: { '#k': partitionKey, '#c': ATTR.category, '#f': ATTR.features } };
}

/** Splits per-table key lists into requests of at most 100 keys. */
function chunk(tables: readonly TableKeys[]): TableKeys[][] {
  const chunks: TableKeys[][] = [];
  let current: TableKeys[] = [];
  let size = 0;
  for (const t of tables) {
    for (let i = 0; i < t.keys.length; ) {
      const take = Math.min(BATCH_GET_KEYS - size, t.keys.length - i);
      current.push({ ...t, keys: t.keys.slice(i, i + take) });
      size += take;
      i += take;
      if (size === BATCH_GET_KEYS) {
        chunks.push(current);
        current = [];
        size = 0;
      }
    }
  }
  if (size > 0) chunks.push(current);
  return chunks;
}

/** Every item found, as `[table, item]` pairs (order unspecified; missing keys are absent). */
export async function batchGet(
  client: RecordTransport,
  tables: readonly TableKeys[],
  consistentRead: boolean,
): Promise<[string, Item][]> {
  const parts = await Promise.all(chunk(tables).map((c) => batchGetChunk(client, c, consistentRead)));
  return parts.flat();
}

async function batchGetChunk(client: RecordTransport, tables: TableKeys[], consistentRead: boolean): Promise<[string, Item][]> {
  const partitionKeys = new Map(tables.map((t) => [t.table, t.partitionKey]));
  let pending = new Map<string, Item[]>();
  for (const t of tables) pending.set(t.table, [...(pending.get(t.table) ?? []), ...t.keys]);
  const found: [string, Item][] = [];
  for (let attempt = 1; ; attempt++) {
    const requestItems: Record<string, BatchGetRequest> = {};
    for (const [table, keys] of pending) {
      requestItems[table] = { Keys: keys, ConsistentRead: consistentRead, ...readProjection(partitionKeys.get(table) ?? '') };
    }
    let res;
    try {
      res = await batchGetItem(client, requestItems);
    } catch (err) {
      throw translateError(err, [...pending.keys()].join(', '));
    }
    for (const entry of res.responses) found.push(entry);
    const next = res.unprocessed;
    if (next.size === 0) return found;
    if (attempt >= BATCH_GET_ATTEMPTS) throw new StoreThrottledError();
    pending = next;
    // Full jitter spreads the retries of many callers hitting the same hot partition.
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
    await new Promise((r) => setTimeout(r, Math.random() * ceiling));
  }
}
