/**
 * `feature-store lineage backfill`: gives items written before the by-compute-id index existed
 * (by the old service, or an earlier version of this one) the index attributes
 * (`lineage_compute_id`, `lineage_updated_at`; by-compute-id.ts), so that the by-compute-id
 * query lists them.
 *
 * - Each record table is read with a parallel Scan (`segments` segments), asking only for items
 *   without `lineage_compute_id`, projected to the key and `features.meta`.
 * - Each item with a non-empty compute_id gets one UpdateItem, conditioned on its compute_id
 *   being the one scanned and the attribute still missing: a record rewritten meanwhile was
 *   indexed by that write and is skipped, never overwritten.
 * - Writes are throttled to `maxWritesPerSecond` (shared by the segments), so that the backfill
 *   does not take the table's capacity from the service.
 * - Resumable: after each page the scan position of every segment is saved to `statePath`; a
 *   run started with the same file continues where the last one stopped (same segment count).
 *
 * Cost: the Scan reads the whole table once (eventually consistent: 0.5 read units per 4 KB
 * read, whatever the filter keeps); each updated item costs one write unit per KB of item, plus
 * one index write.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LINEAGE_ATTR } from './by-compute-id.js';
import { isConditionalCheckFailed, translateError } from './errors.js';
import { ATTR, field, type Item } from './layout.js';
import type { TableSpec } from './tables.js';

export interface BackfillOptions {
  segments: number;
  maxWritesPerSecond: number;
  /** JSON file of the scan positions; created, updated after every page. */
  statePath: string;
  /** Items per Scan page (DynamoDB also stops a page at 1 MB). */
  pageSize?: number;
  /** Stop after this many pages per segment (the state file lets a later run go on). */
  maxPages?: number;
  /** Called after every page with the totals so far. */
  onProgress?: (progress: BackfillProgress) => void;
  /** Clock and sleep of the throttle (tests). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface BackfillProgress {
  table: string;
  scanned: number;
  updated: number;
  /** Items without a compute_id, or rewritten since they were scanned. */
  skipped: number;
  segmentsDone: number;
  segments: number;
}

/** Per table: each segment's next ExclusiveStartKey, `null` to start, `'done'` when finished. */
type State = Record<string, { segments: number; positions: (Item | null | 'done')[] }>;

/**
 * Paces calls to at most `perSecond` per second, evenly spaced, for any number of concurrent
 * callers: each call reserves the next free slot and waits for it.
 */
export function rateLimiter(perSecond: number, now: () => number, sleep: (ms: number) => Promise<void>): () => Promise<void> {
  const interval = 1000 / perSecond;
  let next = 0;
  return async () => {
    const t = now();
    const slot = Math.max(t, next);
    next = slot + interval;
    if (slot > t) await sleep(slot - t);
  };
}

function loadState(path: string): State {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as State) : {};
}

function saveState(path: string, state: State): void {
  // Written whole to a temporary file, then renamed: a crash leaves the old or the new state.
  writeFileSync(`${path}.tmp`, JSON.stringify(state));
  renameSync(`${path}.tmp`, path);
}

/** Backfills every table in `specs`, one after the other; resolves with each table's totals. */
export async function backfillLineage(doc: DynamoDBDocumentClient, specs: readonly TableSpec[], options: BackfillOptions): Promise<BackfillProgress[]> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const throttle = rateLimiter(options.maxWritesPerSecond, now, sleep);
  const state = loadState(options.statePath);
  const results: BackfillProgress[] = [];
  for (const spec of specs) {
    const saved = state[spec.table];
    if (saved !== undefined && saved.segments !== options.segments) {
      throw new Error(`${options.statePath} holds a backfill of '${spec.table}' with ${saved.segments} segments; continue it with --segments ${saved.segments} or start with a new state file`);
    }
    const tableState = saved ?? { segments: options.segments, positions: new Array<Item | null | 'done'>(options.segments).fill(null) };
    state[spec.table] = tableState;
    const progress: BackfillProgress = { table: spec.table, scanned: 0, updated: 0, skipped: 0, segmentsDone: 0, segments: options.segments };
    progress.segmentsDone = tableState.positions.filter((p) => p === 'done').length;
    await Promise.all(
      tableState.positions.map(async (_, segment) => {
        for (let pages = 0; options.maxPages === undefined || pages < options.maxPages; pages++) {
          const position = tableState.positions[segment];
          if (position === 'done' || position === undefined) return;
          const page = await scanPage(doc, spec, segment, options, position);
          for (const item of page.items) {
            progress.scanned += 1;
            if (await indexItem(doc, spec, item, throttle)) progress.updated += 1;
            else progress.skipped += 1;
          }
          tableState.positions[segment] = page.next ?? 'done';
          if (page.next === undefined) progress.segmentsDone += 1;
          saveState(options.statePath, state);
          options.onProgress?.({ ...progress });
        }
      }),
    );
    results.push(progress);
  }
  return results;
}

async function scanPage(
  doc: DynamoDBDocumentClient,
  spec: TableSpec,
  segment: number,
  options: BackfillOptions,
  start: Item | null,
): Promise<{ items: Item[]; next: Item | undefined }> {
  try {
    const res = await doc.send(
      new ScanCommand({
        TableName: spec.table,
        Segment: segment,
        TotalSegments: options.segments,
        ProjectionExpression: '#k, #cat, #f.#m',
        FilterExpression: 'attribute_not_exists(#lc)',
        ExpressionAttributeNames: { '#k': spec.entityType, '#cat': ATTR.category, '#f': ATTR.features, '#m': ATTR.meta, '#lc': LINEAGE_ATTR.computeId },
        ...(options.pageSize === undefined ? {} : { Limit: options.pageSize }),
        ...(start === null ? {} : { ExclusiveStartKey: start }),
      }),
    );
    return { items: res.Items ?? [], next: res.LastEvaluatedKey };
  } catch (err) {
    throw translateError(err, spec.table);
  }
}

/** Sets the index attributes of one scanned item; false when it has no compute_id or changed since. */
async function indexItem(doc: DynamoDBDocumentClient, spec: TableSpec, item: Item, throttle: () => Promise<void>): Promise<boolean> {
  const meta = field(item[ATTR.features], ATTR.meta);
  const computeId = field(meta, ATTR.computeId);
  const updatedAt = field(meta, ATTR.updatedAt) ?? field(meta, ATTR.createdAt);
  if (typeof computeId !== 'string' || computeId === '' || typeof updatedAt !== 'string') return false;
  const key: Item = { [spec.entityType]: item[spec.entityType] as unknown, [ATTR.category]: item[ATTR.category] as unknown };
  await throttle();
  try {
    await doc.send(
      new UpdateCommand({
        TableName: spec.table,
        Key: key,
        UpdateExpression: 'SET #lc = :c, #lu = :u',
        ConditionExpression: '#f.#m.#ci = :c AND attribute_not_exists(#lc)',
        ExpressionAttributeNames: { '#lc': LINEAGE_ATTR.computeId, '#lu': LINEAGE_ATTR.updatedAt, '#f': ATTR.features, '#m': ATTR.meta, '#ci': ATTR.computeId },
        ExpressionAttributeValues: { ':c': computeId, ':u': updatedAt },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw translateError(err, spec.table);
  }
}
