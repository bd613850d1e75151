import type { FeatureMap, OutboxEvent } from '../../model.js';
import { normalizeTimestamp } from '../../timestamps.js';
import type { MergeRecordInput, MergeResult, WriteRecordInput, WriteResult, WrittenMeta } from '../ports.js';
import { nextHistory } from './rows.js';
import type { TableStatements } from './statements.js';
import type { SqliteVersions } from './versions.js';

/**
 * The SQLite write protocol: what one write or merge does inside its group-commit batch's
 * transaction (records.ts queues them). Each runs synchronously, so nothing else can change the
 * row between the probe and the upsert: SQLite has one writer, and this is its only thread.
 *
 * Event time: a write that carries one uses the conditional upsert. If it yields no row the
 * write is stale, and the stored event time is read in the same synchronous transaction, so
 * nothing can change it in between. A stale write inserts no event.
 */

/** What the protocol writes besides the record: earlier versions and the change event. */
export interface WriteContext {
  versions: SqliteVersions;
  recordEvent: (event: OutboxEvent) => void;
}

/** One write, inside its batch's transaction. */
export function applyWrite(s: TableStatements, input: WriteRecordInput, ctx: WriteContext): WriteResult {
  const { entityValue, category } = input.key;
  const eventTime = input.eventTime ?? null;
  const restore = input.onlyIfComputeId !== undefined;
  if (restore && s.probeComputeId.get(entityValue, category)?.compute_id !== input.onlyIfComputeId) return { outcome: 'superseded' };
  // The probe tells `created` apart: RETURNING shows the row after the upsert, which looks the
  // same whether it was inserted or updated. Same transaction, so it cannot go out of date.
  const before = s.probe.get(entityValue, category);
  // A restore is conditional on the compute id (checked above, same transaction), not on the event time.
  const upsert = eventTime === null || restore ? s.upsert : s.upsertIfNotOlder;
  const kept = input.versionsKept ?? 0;
  // The version is copied only when the upsert will apply: the probe, in this transaction, says so.
  if (kept > 0 && before !== undefined && (upsert === s.upsert || before.event_time === null || before.event_time <= (eventTime as string))) {
    ctx.versions.keep(s.table, input.key, kept);
  }
  const history = nextHistory(input, before?.compute_history ?? null);
  const row = upsert.get(entityValue, category, JSON.stringify(input.data), input.now, input.now, input.computeId, eventTime, input.expiresAt ?? null, history);
  if (row === undefined) {
    // Only the conditional upsert returns nothing, and only on a conflict with a later stored
    // event time: `before` is that row, read in this transaction.
    const stored = before?.event_time;
    if (stored === undefined || stored === null) throw new Error('SqliteStore: a skipped upsert without a stored event time');
    return { outcome: 'stale', storedEventTime: normalizeTimestamp(stored) };
  }
  if (input.event !== undefined) ctx.recordEvent(input.event);
  const meta: WrittenMeta = {
    created_at: normalizeTimestamp(row.created_at),
    created: before === undefined,
    updated_at: input.now,
    compute_id: input.computeId,
    ...(eventTime === null ? {} : { event_time: eventTime }),
  };
  return { outcome: 'applied', meta };
}

/**
 * One merge, inside its batch's transaction: the row is read and replaced in the same
 * synchronous transaction, so no other write can come between (SQLite has one writer).
 */
export function applyMerge(s: TableStatements, input: MergeRecordInput, ctx: WriteContext): MergeResult {
  const { entityValue, category } = input.key;
  const row = s.getWithHistory.get(entityValue, category);
  const expired = row !== undefined && input.expiredBefore !== undefined && normalizeTimestamp(row.updated_at) < input.expiredBefore;
  // A null prototype, so that a feature named `__proto__` is a feature like any other.
  const data = Object.create(null) as FeatureMap;
  if (row !== undefined && !expired) Object.assign(data, JSON.parse(row.data) as FeatureMap);
  for (const [name, value] of Object.entries(input.set)) data[name] = value;
  for (const name of input.remove) delete data[name];
  if ((input.versionsKept ?? 0) > 0 && row !== undefined) ctx.versions.keep(s.table, input.key, input.versionsKept ?? 0);
  const history = nextHistory(input, row?.compute_history ?? null);
  s.upsert.get(entityValue, category, JSON.stringify(data), input.now, input.now, input.computeId, null, input.expiresAt ?? null, history);
  if (input.event !== undefined) ctx.recordEvent(input.event);
  return { featureCount: Object.keys(data).length, created: row === undefined };
}
