import type { FeatureMap } from '../../model.js';
import type { MergeRecordInput } from '../ports.js';
import type { RecordTransport } from './direct-transport.js';
import { cancelReasons, errorName, isConditionalCheckFailed, translateError } from './errors.js';
import { transactWrite, updateItemReturningNew } from './fast-io.js';
import { ATTR, encodeData, field, MalformedItemError, toRecord, type Item } from './layout.js';
import { appendAction, type PendingEvent } from './outbox-item.js';
import type { TableSpec } from './tables.js';
import type { VersionsAction } from './versions.js';
import { lineageActions } from './by-compute-id.js';
import { historyShift } from './history.js';
import { cancelOutcome, conditionOutcome, followExpiry, outboxFull, RECORD_NAMES, type UpdateRequest } from './write-protocol.js';

/**
 * The requests of a merge write (`mergeRecord`). The main path is one UpdateItem (with the
 * event: one TransactWriteItems of it and the outbox append) that SETs and REMOVEs each merged
 * feature at `features.data.<name>` (names through ExpressionAttributeNames), so concurrent
 * merges of different features never overwrite each other and nothing is read first. Its
 * condition: the record exists and `features.data` is a map. A missing record is then created
 * by the write protocol's conditional put (write-protocol.ts).
 *
 * Where per-feature paths cannot work — `features.data` stored as one Binary (a feature name
 * the SDK cannot carry, see layout.ts), or a merge whose expression would pass DynamoDB's
 * 4 KB expression limit — the merge reads the record and replaces `features.data` on the
 * condition that it is still exactly what was read (optimistic concurrency: a concurrent
 * change makes it fail and the merge starts over, so nothing is lost either).
 */

/** DynamoDB's limit on an UpdateExpression (and on a ConditionExpression), in bytes. */
const MAX_EXPRESSION_BYTES = 4096;

const META_SET = '#f.#m.#u = :now, #f.#m.#ci = :cid, #f.#m.#c = if_not_exists(#f.#m.#c, :now)';

/** The metadata part of a merge's update: SET clauses, REMOVE paths and their values. */
function metaParts(input: MergeRecordInput): { sets: string[]; removes: string[]; values: Record<string, unknown>; names: Record<string, string> } {
  // Lineage as a write keeps it: the compute history shifts and the by-compute-id attributes
  // follow, in the same expression (history.ts, by-compute-id.ts).
  const history = historyShift(input.historySize ?? 0, { compute_id: input.computeId, timestamp: input.now });
  const lineage = lineageActions(input.computeId);
  const values: Record<string, unknown> = { ':now': input.now, ':cid': input.computeId, ...history.values };
  const sets = [META_SET, ...history.set, ...lineage.set];
  const removes = ['#f.#m.#et', ...lineage.remove];
  followExpiry(input.expiresAt, sets, removes, values);
  return { sets, removes, values, names: { ...RECORD_NAMES, ...history.names, ...lineage.names } };
}

/**
 * The per-feature update, or undefined when its expression would be over the limit.
 * `set` holds the features already encoded for storage (layout.ts `encodeData`).
 */
export function mergeUpdate(table: string, key: Item, input: MergeRecordInput, set: Item): UpdateRequest | undefined {
  const { sets, removes, values, names } = metaParts(input);
  values[':map'] = 'M';
  let condition = 'attribute_exists(#f.#m) AND attribute_type(#f.#d, :map)';
  if (input.expiredBefore !== undefined) {
    // An expired record is not merged into feature by feature: it fails here, and the next
    // round reads it and replaces its features with the merge's own (expiredReplace).
    values[':live'] = input.expiredBefore;
    condition += ' AND #f.#m.#u >= :live';
  }
  Object.entries(set).forEach(([name, value], i) => {
    names[`#s${i}`] = name;
    values[`:s${i}`] = value;
    sets.push(`#f.#d.#s${i} = :s${i}`);
  });
  input.remove.forEach((name, i) => {
    names[`#r${i}`] = name;
    removes.push(`#f.#d.#r${i}`);
  });
  const update = `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`;
  if (Buffer.byteLength(update) > MAX_EXPRESSION_BYTES) return undefined;
  return {
    TableName: table,
    Key: key,
    UpdateExpression: update,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * The outcome of one merge request. `applied` carries the new item when the server returned it
 * (a plain UpdateItem asks for ALL_NEW; a transaction returns nothing); `missing`: no record;
 * `exists`: the record is there but the condition failed on it; `again`: a transaction on the
 * same items was in progress.
 */
export type MergeAttempt =
  | { kind: 'applied'; item: Item | undefined }
  | { kind: 'missing' }
  | { kind: 'exists' }
  | { kind: 'again' }
  /** DynamoDB refused the request as invalid: the merged item may be over the size limit. */
  | { kind: 'invalid'; error: unknown };

/**
 * Sends one merge update, with the event's outbox append in one transaction when there is one,
 * on the record path's transport: a merge that may have been applied without an answer is not
 * sent again (it would shift the compute history and append its event twice), it fails as 503.
 */
export async function mergeAction(
  transport: RecordTransport,
  outboxTable: string,
  table: string,
  update: UpdateRequest,
  pending: PendingEvent | undefined,
  versions?: VersionsAction,
): Promise<MergeAttempt> {
  const transaction = pending !== undefined || versions !== undefined;
  try {
    if (!transaction) {
      return { kind: 'applied', item: await updateItemReturningNew(transport, update) };
    }
    // The outbox append second (cancelOutcome reads its reason there), the versions update last.
    const companions = [...(pending === undefined ? [] : [{ Update: appendAction(outboxTable, pending) }]), ...(versions === undefined ? [] : [{ Update: versions }])];
    await transactWrite(transport, [{ Update: update }, ...companions]);
    return { kind: 'applied', item: undefined };
  } catch (err) {
    if (errorName(err) === 'ValidationException' || cancelReasons(err)?.some((r) => r.code === 'ValidationError')) return { kind: 'invalid', error: err };
    let oldItem: unknown;
    if (transaction) {
      const cancel = cancelOutcome(err);
      if (cancel === undefined) throw translateError(err, table);
      if (cancel.kind === 'outboxFull') throw outboxFull();
      if (cancel.kind === 'conflict') return { kind: 'again' };
      oldItem = cancel.oldItem;
    } else {
      if (!isConditionalCheckFailed(err)) throw translateError(err, table);
      oldItem = (err as { Item?: unknown }).Item;
    }
    const outcome = conditionOutcome(oldItem, undefined);
    if (outcome.kind === 'malformed') throw new MalformedItemError(table, 'no features.meta');
    return outcome.kind === 'missing' ? { kind: 'missing' } : { kind: 'exists' };
  }
}

/** The features of the record `read` with the merge applied. */
export function mergedData(spec: TableSpec, input: MergeRecordInput, read: Item): FeatureMap {
  // A null prototype, so that a feature named `__proto__` is a feature like any other.
  const data = Object.create(null) as FeatureMap;
  Object.assign(data, toRecord(spec.table, spec.entityType, input.key.entityValue, read).data);
  for (const [name, value] of Object.entries(input.set)) data[name] = value;
  for (const name of input.remove) delete data[name];
  return data;
}

/** The read-modify-write of a merge: the record `read` with the merge applied, if still unchanged. */
export function replaceAction(spec: TableSpec, key: Item, input: MergeRecordInput, read: Item): UpdateRequest {
  return replaceIfUnchanged(spec.table, key, input, field(read[ATTR.features], ATTR.data), encodeData(mergedData(spec, input, read)));
}

/** Whether the record `read` has expired for this merge (`MergeRecordInput.expiredBefore`). */
export function isExpired(spec: TableSpec, input: MergeRecordInput, read: Item): boolean {
  return input.expiredBefore !== undefined && toRecord(spec.table, spec.entityType, input.key.entityValue, read).meta.updated_at < input.expiredBefore;
}

/**
 * The merge into an expired record: `features.data` becomes the merge's own features, on the
 * condition that the record is still expired (a write that renewed it meanwhile fails this, and
 * the merge starts over on the live record). No comparison of the stored map is needed, which
 * an emulator without map equality (dynalite) could not do.
 */
export function expiredReplace(table: string, key: Item, input: MergeRecordInput, data: Item | Uint8Array): UpdateRequest {
  const { sets, removes, values, names } = metaParts(input);
  return {
    TableName: table,
    Key: key,
    UpdateExpression: `SET #f.#d = :data, ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
    ConditionExpression: 'attribute_exists(#f.#m) AND #f.#m.#u < :live',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ...values, ':data': data, ':live': input.expiredBefore },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * The read-modify-write fallback: replaces `features.data` with `data` (the merge applied to
 * what was read) if the stored `features.data` is still `read`.
 */
export function replaceIfUnchanged(table: string, key: Item, input: MergeRecordInput, read: unknown, data: Item | Uint8Array): UpdateRequest {
  const { sets, removes, values, names } = metaParts(input);
  return {
    TableName: table,
    Key: key,
    UpdateExpression: `SET #f.#d = :data, ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
    ConditionExpression: 'attribute_exists(#f.#m) AND #f.#d = :read',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ...values, ':data': data, ':read': read },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}
