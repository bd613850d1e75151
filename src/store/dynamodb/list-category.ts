/**
 * Listing every record of one category (ports.ts `listCategory`) on the old service's tables:
 * their key is (entity value, category) and no index has the category as its partition key, so
 * this is a Scan with a filter on `category`, paged with `ExclusiveStartKey`. It reads (and
 * pays for: 0.5 read units per 4 KB, eventually consistent) every item of the table, whatever
 * its category; that is acceptable for an export, never for serving. A page sends at most
 * `MAX_SCAN_REQUESTS` Scan requests (each reads up to 1 MB), so a rare category gives short or
 * empty pages with a position to continue from.
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FeatureRecord } from '../../model.js';
import type { CategoryListPage, CategoryListPosition, CategoryListQuery } from '../ports.js';
import { translateError } from './errors.js';
import { ATTR, toRecord, type Item } from './layout.js';
import type { TableSpec } from './tables.js';

const MAX_SCAN_REQUESTS = 4;

export async function scanCategory(doc: DynamoDBDocumentClient, spec: TableSpec, query: CategoryListQuery): Promise<CategoryListPage> {
  const records: FeatureRecord[] = [];
  const keyOf = (item: Item): CategoryListPosition => ({ entityValue: String(item[spec.entityType]), category: String(item[ATTR.category]) });
  let start: Item | undefined =
    query.after === undefined ? undefined : { [spec.entityType]: query.after.entityValue, [ATTR.category]: query.after.category };
  for (let request = 0; request < MAX_SCAN_REQUESTS; request++) {
    let res;
    try {
      res = await doc.send(
        new ScanCommand({
          TableName: spec.table,
          FilterExpression: '#cat = :cat',
          ExpressionAttributeNames: { '#cat': ATTR.category },
          ExpressionAttributeValues: { ':cat': query.category },
          ExclusiveStartKey: start,
        }),
      );
    } catch (err) {
      throw translateError(err, spec.table);
    }
    for (const item of res.Items ?? []) {
      records.push(toRecord(spec.table, spec.entityType, String(item[spec.entityType]), item));
      // Cut inside a response: continue after the last record returned (any key is a valid start).
      if (records.length === query.limit) return { records, next: keyOf(item) };
    }
    if (res.LastEvaluatedKey === undefined) return { records, next: undefined };
    start = res.LastEvaluatedKey;
  }
  return { records, next: start === undefined ? undefined : keyOf(start) };
}
