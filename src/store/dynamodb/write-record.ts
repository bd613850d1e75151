import type { WriteRecordInput, WriteResult } from '../ports.js';
import { HISTORY_POSITION_MAX_BYTES } from './history.js';
import { assertStorable, encodeData, toRecord } from './layout.js';
import { itemKey, jitter, recordId, ROUNDS, type Attempt, type RecordIo } from './record-io.js';
import type { TableSpec } from './tables.js';
import { versionsAction } from './versions.js';
import type { WriteOrder } from './write-order.js';
import { newRecordItem } from './write-protocol.js';

/**
 * A record write (`writeRecord`): the update of an existing record, or the conditional put of a
 * new one (write-protocol.ts), in the order `order` guesses (write-order.ts). Whichever goes
 * first, its condition decides: a put that finds a record (another instance's, a concurrent
 * first write, a record this instance has not seen) is followed by the update in the same round,
 * an update that finds none by the put; a guess changes the number of requests, never the
 * outcome. Requests: 1 when the guess is right; 2 when it is wrong; a restore (`onlyIfComputeId`)
 * is update-first always, as it never creates a record.
 */
export async function writeRecord(io: RecordIo, spec: TableSpec, input: WriteRecordInput, versionsTable: string, order: WriteOrder): Promise<WriteResult> {
  assertStorable(input.key);
  const key = itemKey(spec, input.key);
  const data = encodeData(input.data);
  const item = newRecordItem(key, input, data);
  // The stored history is not read: count every position at its largest.
  io.assertFits(item, (input.historySize ?? 0) * HISTORY_POSITION_MAX_BYTES);
  const pending = input.event === undefined ? undefined : io.pending(input.key, input.event, input.now);
  const meta = { updated_at: input.now, compute_id: input.computeId, ...(input.eventTime === undefined ? {} : { event_time: input.eventTime }) };
  const kept = input.versionsKept ?? 0;
  const versions = kept > 0 ? versionsAction(versionsTable, input.key, kept, { ...input, data: input.data }) : undefined;
  const id = order.enabled ? recordId(input.key.entityType, input.key.entityValue, input.key.category) : '';
  const restore = input.onlyIfComputeId !== undefined;
  // Whether this write's first request tells the unknown-key share something (write-order.ts).
  let unknown = order.enabled && !restore && !order.knows(id);
  let putFirst = !restore && order.putFirst(spec.table, id);
  for (let round = 0; round < ROUNDS; round++) {
    let attempt: Attempt;
    if (putFirst) {
      attempt = await io.put(spec, item, input.eventTime, pending, versions);
      // Not created: the record exists (or a concurrent first write won, or another transaction
      // held the item); the update follows in this round.
      if (unknown) order.learn(spec.table, attempt.kind === 'applied');
      if (attempt.kind === 'again') attempt = await io.update(spec, key, input, data, pending, versions);
    } else {
      attempt = await io.update(spec, key, input, data, pending, versions);
      if (restore && attempt.kind !== 'applied') {
        // A restore never creates a record; a failed condition is decided by one consistent read.
        const current = await io.get(spec, key, true);
        const computeId = current === undefined ? undefined : toRecord(spec.table, spec.entityType, input.key.entityValue, current).meta.compute_id;
        if (computeId !== input.onlyIfComputeId) return { outcome: 'superseded' };
        await jitter(round);
        continue;
      }
      if (unknown) order.learn(spec.table, attempt.kind === 'missing');
      if (attempt.kind === 'missing') attempt = await io.put(spec, item, input.eventTime, pending, versions);
    }
    unknown = false;
    putFirst = false;
    if (attempt.kind === 'applied') {
      order.remember(id);
      const created = attempt.created;
      return { outcome: 'applied', meta: { ...meta, created, created_at: created ? input.now : undefined } };
    }
    if (attempt.kind === 'stale') {
      order.remember(id);
      return { outcome: 'stale', storedEventTime: attempt.storedEventTime };
    }
    await jitter(round);
  }
  return io.explain(spec, key, input.eventTime);
}
