import { StoreUnavailableError } from '../../errors.js';
import type { FeatureRecord } from '../../model.js';
import type { DeleteRecordInput, RecordKey } from '../ports.js';
import { isConditionalCheckFailed, translateError } from './errors.js';
import { deleteItem, transactWrite } from './fast-io.js';
import { ATTR, field, toRecord, unstorableField } from './layout.js';
import { appendAction } from './outbox-item.js';
import { itemKey, jitter, ROUNDS, type RecordIo } from './record-io.js';
import type { TableSpec } from './tables.js';
import { versionsKey } from './versions.js';
import { cancelOutcome, outboxFull, recordDelete } from './write-protocol.js';

/** The versions table, and whether versions are kept (then a delete removes the record's). */
export interface VersionsPlace {
  table: string;
  required: boolean;
}

/**
 * The record port's delete (records.ts). Without an event: one DeleteItem returning the old
 * item (conditioned on the compute id for a rollback), then the versions item. With an event:
 * a consistent read (the event names the deleted features), then a TransactWriteItems of the
 * delete conditioned on the record being the one read, the event's outbox append and the
 * versions item's delete, in rounds against concurrent writers.
 *
 * The requests go through the record path's transport: a delete that may have been applied
 * without an answer is not sent again (a replay would find nothing and answer "not found" for
 * the record it deleted), it fails as 503.
 */
export async function deleteRecord(io: RecordIo, spec: TableSpec, input: DeleteRecordInput, versions: VersionsPlace): Promise<FeatureRecord | undefined> {
  if (unstorableField(input.key.entityValue, input.key.category) !== undefined) return undefined;
  const key = itemKey(spec, input.key);
  const only = input.onlyIfComputeId;
  if (input.event === undefined) {
    let deleted: FeatureRecord | undefined;
    try {
      const old = await deleteItem(io.transport, {
        TableName: spec.table,
        Key: key,
        ...(only === undefined
          ? {}
          : { ConditionExpression: '#f.#m.#ci = :only', ExpressionAttributeNames: { '#f': ATTR.features, '#m': ATTR.meta, '#ci': ATTR.computeId }, ExpressionAttributeValues: { ':only': only } }),
      }, true);
      deleted = old === undefined ? undefined : toRecord(spec.table, spec.entityType, input.key.entityValue, old);
    } catch (err) {
      if (only !== undefined && isConditionalCheckFailed(err)) return undefined;
      throw translateError(err, spec.table);
    }
    // Without transactions (events off) the versions item goes after the record: a crash in
    // between leaves versions that the next write of the key shifts out or that a read skips
    // (decodeVersions lists only versions older than the record).
    if (deleted !== undefined && versions.required) await dropVersions(io, versions.table, input.key);
    return deleted;
  }
  for (let round = 0; round < ROUNDS; round++) {
    // The event names the deleted features, so the record is read first; the delete is then
    // conditioned on the record being the one read (same updated_at).
    const item = await io.get(spec, key, true);
    if (item === undefined) return undefined;
    const record = toRecord(spec.table, spec.entityType, input.key.entityValue, item);
    if (only !== undefined && record.meta.compute_id !== only) return undefined;
    const pending = io.pending(input.key, input.event(record), input.now);
    const del = recordDelete(spec.table, key, field(field(item[ATTR.features], ATTR.meta), ATTR.updatedAt));
    // The record's versions go with it, in the same transaction.
    const versionsDelete = { Delete: { TableName: versions.table, Key: versionsKey(input.key) } };
    try {
      await transactWrite(io.transport, [{ Delete: del }, { Update: appendAction(io.outboxTable, pending) }, ...(versions.required ? [versionsDelete] : [])]);
      return record;
    } catch (err) {
      const outcome = cancelOutcome(err);
      if (outcome === undefined) throw translateError(err, spec.table);
      if (outcome.kind === 'outboxFull') throw outboxFull();
      // The record changed or another transaction was in progress: read again.
    }
    await jitter(round);
  }
  throw new StoreUnavailableError('The record kept changing during the delete; retry');
}

async function dropVersions(io: RecordIo, table: string, key: RecordKey): Promise<void> {
  try {
    await deleteItem(io.transport, { TableName: table, Key: versionsKey(key) }, false);
  } catch (err) {
    throw translateError(err, table);
  }
}
