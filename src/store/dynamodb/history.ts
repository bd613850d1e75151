/**
 * The compute history of a record item (ports.ts `getComputeHistory`), kept without a read and
 * bounded, in the record's own item.
 *
 * Layout: one top-level attribute per position, `compute_history_0` (newest) …
 * `compute_history_<N-1>`, each a map `{compute_id: S | NULL, timestamp: S}` or NULL (an empty
 * position). Every write that keeps history shifts them by one in the same UpdateExpression as
 * the record update:
 *
 *   SET compute_history_0 = :entry,
 *       compute_history_1 = if_not_exists(compute_history_0, :empty), …,
 *       compute_history_<N-1> = if_not_exists(compute_history_<N-2>, :empty)
 *
 * Operands of an update expression are evaluated on the item as it was before the update, so
 * position i+1 receives the old position i (moto and dynalite behave the same; the store contract
 * checks the order on both). Why not one list attribute:
 * - `list_append(:new, h)` prepends, but trimming it needs `REMOVE h[N]`, and SET and REMOVE
 *   on overlapping paths (`h` and `h[N]`) in one expression are refused by DynamoDB;
 * - shifting list elements (`SET h[1] = h[0], …`) fails on items that have no list yet (the old
 *   service's items) and appends out of place when the list is shorter than N;
 * - a ring of slots `i mod N` needs the write counter's value before the write, which is a read.
 * Top-level attributes exist or not independently, so the same expression works on every item,
 * old or new, with a fixed cost: N short SET actions and at most N × ~330 bytes per item. The old
 * service ignores attributes it does not know; ordinary reads project them away.
 *
 * Changing `COMPUTE_HISTORY_SIZE`: lowering it leaves positions ≥ N untouched and unread;
 * raising it again brings them back at the end (older entries of the same record, still newest
 * first). With 0 writes leave the history alone.
 */
import type { ComputeHistoryEntry } from '../../model.js';
import { field, type Item } from './layout.js';

export const HISTORY_PREFIX = 'compute_history_';

export function historyAttribute(position: number): string {
  return `${HISTORY_PREFIX}${position}`;
}

/**
 * Upper bound of one position's size against the item limit: the name (≤ 19 bytes), a map of
 * two named strings (3 + 2 × 1 + 10 + 9 bytes of overhead and names), a compute_id of at most
 * 256 characters (≤ 1,024 UTF-8 bytes) and a 24-byte timestamp.
 */
export const HISTORY_POSITION_MAX_BYTES = 19 + 24 + 1024 + 24;

/** The SET actions, names and values that shift the history and put `entry` first. */
export function historyShift(size: number, entry: ComputeHistoryEntry): { set: string[]; names: Record<string, string>; values: Record<string, unknown> } {
  const set: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = size > 0 ? { ':h': entry } : {};
  for (let i = 0; i < size; i++) {
    names[`#h${i}`] = historyAttribute(i);
    set.push(i === 0 ? '#h0 = :h' : `#h${i} = if_not_exists(#h${i - 1}, :hnone)`);
  }
  if (size > 1) values[':hnone'] = null;
  return { set, names, values };
}

/** The history attributes of a new record item. */
export function newHistory(size: number, entry: ComputeHistoryEntry): Item {
  return size > 0 ? { [historyAttribute(0)]: entry } : {};
}

/** The projection that reads positions 0 … limit-1 (and the key, so that an item without history is still found). */
export function historyProjection(partitionKey: string, limit: number): { ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> } {
  const names: Record<string, string> = { '#k': partitionKey };
  const paths = ['#k'];
  for (let i = 0; i < limit; i++) {
    names[`#h${i}`] = historyAttribute(i);
    paths.push(`#h${i}`);
  }
  return { ProjectionExpression: paths.join(', '), ExpressionAttributeNames: names };
}

/** Positions 0 … limit-1 of an item, newest first; empty positions and anything malformed are skipped. */
export function decodeHistory(item: Item, limit: number): ComputeHistoryEntry[] {
  const entries: ComputeHistoryEntry[] = [];
  for (let i = 0; i < limit; i++) {
    const value: unknown = item[historyAttribute(i)];
    const timestamp = field(value, 'timestamp');
    const computeId = field(value, 'compute_id');
    if (typeof timestamp !== 'string') continue;
    entries.push({ compute_id: typeof computeId === 'string' ? computeId : null, timestamp });
  }
  return entries;
}
