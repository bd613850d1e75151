/**
 * The by-compute-id query on DynamoDB (ports.ts `findByComputeId`). A nested
 * `features.meta.compute_id` cannot be an index key, so every write also keeps two top-level
 * attributes, in the same request as the record:
 *
 *   lineage_compute_id  the record's current compute_id (absent when it is null or empty:
 *                       DynamoDB refuses an empty string as an index key)
 *   lineage_updated_at  its updated_at (absent with it), projected into the index so that a
 *                       page is answered from the index alone
 *
 * and each record table has the global secondary index `by_compute_id`: partition key
 * `lineage_compute_id`, sort key `category`, projecting the table's keys and
 * `lineage_updated_at`. The index is sparse: a record with a null compute_id, or last written by
 * the old service or an earlier version of this one, is not in it (those are not listed until
 * they are written again or `feature-store lineage backfill` indexes them, backfill.ts). Reads
 * from a GSI are eventually consistent.
 *
 * Cost: a write with a compute_id also writes the index entry (one more write unit per KB of
 * keys and `lineage_updated_at`; two when the compute_id changes, as the old entry is deleted).
 */
import type { GlobalSecondaryIndex } from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../errors.js';
import type { ComputeJobRecord } from '../../model.js';
import { normalizeTimestamp } from '../../timestamps.js';
import type { ComputeJobPage, ComputeJobQuery } from '../ports.js';
import { errorName, translateError } from './errors.js';
import { ATTR, type Item } from './layout.js';

export const COMPUTE_ID_INDEX = 'by_compute_id';
export const LINEAGE_ATTR = Object.freeze({ computeId: 'lineage_compute_id', updatedAt: 'lineage_updated_at' });

/** The index as `CreateTable` / `UpdateTable` take it (its key attribute is a string). */
export function computeIdIndex(): GlobalSecondaryIndex {
  return {
    IndexName: COMPUTE_ID_INDEX,
    KeySchema: [
      { AttributeName: LINEAGE_ATTR.computeId, KeyType: 'HASH' },
      { AttributeName: ATTR.category, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [LINEAGE_ATTR.updatedAt] },
  };
}

/** Whether a compute_id goes into the index (DynamoDB refuses empty strings as key values). */
function indexed(computeId: string | null): computeId is string {
  return computeId !== null && computeId !== '';
}

/** The lineage attributes of a new record item. */
export function newLineage(computeId: string | null, now: string): Item {
  return indexed(computeId) ? { [LINEAGE_ATTR.computeId]: computeId, [LINEAGE_ATTR.updatedAt]: now } : {};
}

/**
 * The update actions that keep the lineage attributes current (`:now` and `:cid` are the
 * record update's own values).
 */
export function lineageActions(computeId: string | null): { set: string[]; remove: string[]; names: Record<string, string> } {
  const names = { '#lc': LINEAGE_ATTR.computeId, '#lu': LINEAGE_ATTR.updatedAt };
  return indexed(computeId) ? { set: ['#lc = :cid', '#lu = :now'], remove: [], names } : { set: [], remove: ['#lc', '#lu'], names };
}

/**
 * The error for a failed query of `index` on `table`: a missing index (DynamoDB:
 * ValidationException "… does not have the specified index" or "… backfilling global secondary
 * index"; moto: ResourceNotFoundException "Invalid index: …") is the operator's to fix.
 */
export function indexError(err: unknown, table: string, index: string): unknown {
  const name = errorName(err);
  if ((name === 'ValidationException' || name === 'ResourceNotFoundException') && /index/i.test(err instanceof Error ? err.message : '')) {
    return new StoreUnavailableError(
      `The DynamoDB table '${table}' has no usable index '${index}' yet; run \`feature-store tables create\` and wait until the index is ACTIVE`,
      err,
    );
  }
  return translateError(err, table);
}

/** The records whose current compute_id is `computeId`: a COUNT query of the index, paged. */
export async function countByComputeId(doc: DynamoDBDocumentClient, table: string, computeId: string): Promise<number> {
  let count = 0;
  let start: Item | undefined;
  do {
    try {
      const res = await doc.send(
        new QueryCommand({
          TableName: table,
          IndexName: COMPUTE_ID_INDEX,
          KeyConditionExpression: '#lc = :c',
          ExpressionAttributeNames: { '#lc': LINEAGE_ATTR.computeId },
          ExpressionAttributeValues: { ':c': computeId },
          Select: 'COUNT',
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      count += res.Count ?? 0;
      start = res.LastEvaluatedKey;
    } catch (err) {
      throw indexError(err, table, COMPUTE_ID_INDEX);
    }
  } while (start !== undefined);
  return count;
}

/**
 * One page: queries the index (several requests only when DynamoDB cuts a response at 1 MB)
 * for one more record than asked, which tells whether more follow. `after` becomes the
 * ExclusiveStartKey: the index key and the table key of the last record returned.
 */
export async function queryByComputeId(
  doc: DynamoDBDocumentClient,
  table: string,
  partitionKey: string,
  query: ComputeJobQuery,
): Promise<ComputeJobPage> {
  const values: Record<string, unknown> = { ':c': query.computeId };
  let condition = '#lc = :c';
  if (query.category !== undefined) {
    if (query.after !== undefined && query.after.category > query.category) return { records: [], more: false };
    values[':cat'] = query.category;
    condition += ' AND #cat = :cat';
  }
  let start: Item | undefined =
    query.after === undefined || (query.category !== undefined && query.after.category !== query.category)
      ? undefined
      : { [LINEAGE_ATTR.computeId]: query.computeId, [ATTR.category]: query.after.category, [partitionKey]: query.after.entityValue };
  const want = query.limit + 1;
  const items: Item[] = [];
  do {
    let res;
    try {
      res = await doc.send(
        new QueryCommand({
          TableName: table,
          IndexName: COMPUTE_ID_INDEX,
          KeyConditionExpression: condition,
          ExpressionAttributeNames: { '#lc': LINEAGE_ATTR.computeId, ...(query.category === undefined ? {} : { '#cat': ATTR.category }) },
          ExpressionAttributeValues: values,
          Limit: want - items.length,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
    } catch (err) {
      throw indexError(err, table, COMPUTE_ID_INDEX);
    }
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start !== undefined && items.length < want);
  const records = items.slice(0, query.limit).map((item): ComputeJobRecord => {
    const updated: unknown = item[LINEAGE_ATTR.updatedAt];
    return {
      entityType: query.entityType,
      entityValue: String(item[partitionKey]),
      category: String(item[ATTR.category]),
      updatedAt: typeof updated === 'string' ? normalizeTimestamp(updated) : '',
    };
  });
  return { records, more: items.length > query.limit };
}
