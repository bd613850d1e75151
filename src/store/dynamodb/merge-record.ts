import { StoreUnavailableError } from '../../errors.js';
import type { FeatureMap } from '../../model.js';
import type { MergeRecordInput, MergeResult } from '../ports.js';
import { translateError } from './errors.js';
import { assertStorable, encodeData, encodeFeature, toRecord, unsafeKey, type Item } from './layout.js';
import { expiredReplace, isExpired, mergeAction, mergedData, mergeUpdate, replaceAction, type MergeAttempt } from './merge-protocol.js';
import { itemKey, jitter, type RecordIo } from './record-io.js';
import type { TableSpec } from './tables.js';
import { versionsAction } from './versions.js';
import { newRecordItem } from './write-protocol.js';

/**
 * Rounds before a merge gives up (503, "retry"). Per-feature merges lose a round only to a
 * transaction in progress; a read-modify-write merge (the default, with versions kept) loses one
 * to any concurrent change of the record. Of N merges of one record racing round for round, at
 * least one commits in each round, so all N finish within N rounds: 16 rounds let 16 concurrent
 * merges of one record all succeed (8 did not suffice for 10 once requests got faster; the
 * jitter between rounds sums to at most ~0.7 s).
 */
const MERGE_ROUNDS = 16;

/**
 * Per-feature SET/REMOVE paths where it can (merge-protocol.ts), else a read and a replace on
 * the condition that the data is unchanged. Requests: 1 for an existing record (then, with an
 * event, 1 consistent GetItem to count the features: a transaction returns nothing); a
 * record's first merge: 2.
 */
export async function mergeRecord(io: RecordIo, spec: TableSpec, input: MergeRecordInput, versionsTable: string): Promise<MergeResult> {
  assertStorable(input.key);
  const key = itemKey(spec, input.key);
  const pending = input.event === undefined ? undefined : io.pending(input.key, input.event, input.now);
  const names = [...Object.keys(input.set), ...input.remove];
  io.assertFits(newRecordItem(key, { ...input, data: input.set }, encodeData(input.set)));
  const set: Item = {};
  for (const [name, value] of Object.entries(input.set)) set[name] = encodeFeature(value);
  // With versions kept, the merged data goes into the versions item (versions.ts), so it must be
  // known: the merge reads the record and replaces it if unchanged instead of per-feature paths.
  const kept = input.versionsKept ?? 0;
  const versions = (data: FeatureMap) =>
    kept > 0 ? versionsAction(versionsTable, input.key, kept, { data, computeId: input.computeId, now: input.now, expiresAt: input.expiresAt }) : undefined;
  let update = names.some(unsafeKey) || kept > 0 ? undefined : mergeUpdate(spec.table, key, input, set);
  // A put lost to an existing record after the update reported none: a racing first merge,
  // or (twice) a server that returns no item on a failed condition (dynalite).
  let putsLost = 0;
  for (let round = 0; round < MERGE_ROUNDS; round++) {
    let attempt: MergeAttempt;
    if (update !== undefined) {
      attempt = await mergeAction(io.transport, io.outboxTable, spec.table, update, pending);
    } else {
      const read = await io.get(spec, key, true);
      if (read === undefined) attempt = { kind: 'missing' };
      else if (isExpired(spec, input, read)) {
        attempt = await mergeAction(io.transport, io.outboxTable, spec.table, expiredReplace(spec.table, key, input, encodeData(input.set)), pending, versions(input.set));
        if (attempt.kind === 'applied') return { featureCount: Object.keys(input.set).length, created: false };
      } else {
        const merged = mergedData(spec, input, read);
        attempt = await mergeAction(io.transport, io.outboxTable, spec.table, replaceAction(spec, key, input, read), pending, versions(merged));
        if (attempt.kind === 'applied') return { featureCount: Object.keys(merged).length, created: false };
      }
    }
    if (attempt.kind === 'invalid') {
      // Refused as invalid: over the item size limit, or a bug. Only the first is the caller's.
      const read = await io.get(spec, key, true);
      if (read !== undefined) io.assertFits(newRecordItem(key, { ...input, data: {} }, encodeData(mergedData(spec, input, read))));
      throw translateError(attempt.error, spec.table);
    }
    if (attempt.kind === 'applied') {
      const item = attempt.item ?? (await io.get(spec, key, true));
      const featureCount = item === undefined ? 0 : Object.keys(toRecord(spec.table, spec.entityType, input.key.entityValue, item).data).length;
      return { featureCount, created: false };
    }
    if (attempt.kind === 'missing') {
      const data = input.set;
      const item = newRecordItem(key, { key: input.key, data, computeId: input.computeId, now: input.now, expiresAt: input.expiresAt }, encodeData(data));
      const created = await io.put(spec, item, undefined, pending, versions(data));
      if (created.kind === 'applied') return { featureCount: Object.keys(data).length, created: true };
      if (created.kind === 'stale') throw new Error('DynamoDbStore: a put without event time was stale');
      putsLost += 1;
    }
    // The record is stored in a form per-feature paths cannot update: read it and replace it
    // if unchanged from here on.
    if (attempt.kind === 'exists' || putsLost >= 2) update = undefined;
    await jitter(round);
  }
  throw new StoreUnavailableError('The record kept changing during the merge; retry');
}
