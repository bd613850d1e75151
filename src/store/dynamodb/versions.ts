/**
 * Record versions on DynamoDB (ports.ts `getVersions`, record-shapes.ts
 * `RecordChangeInput.versionsKept`), kept in a table of their own (`DYNAMODB_VERSIONS_TABLE`), one
 * item per record:
 *
 *   { pk: "<entity type>\0<entity value>", sk: "<category>",
 *     v0: {data, compute_id, event_time?, updated_at},   ← the write that made the current record
 *     v1: …, …, v<N>: …,                                   ← earlier writes, newest first
 *     expires_at? }
 *
 * Why not in the record item: the record tables may be the old service's, which other readers
 * scan (every copy of the data would be read and paid for by each scan), and the record item
 * would have to hold N+1 copies of the data under one 400 KB limit. Why one item per record and
 * `v0` = the current write: DynamoDB cannot copy an attribute from one item to another, so
 * keeping "the values this write replaces" would need a read before every write; instead each
 * write puts its own values in `v0` and shifts the others by one in the same UpdateExpression
 * (as the compute history does, history.ts) — no read, one more action in the write's
 * TransactWriteItems (record, outbox, versions: all or nothing). The price is one more copy of
 * the current data and a write of the whole versions item (see docs/decisions/2-versions.md for
 * the measured WCU). `getVersions` reads the record and this item and lists the slots older than
 * the record's `updated_at` (a slot equal to the current write is the current one).
 *
 * Size: slots are cut to what fits in 400 KB with this write's slot counted at its size; slots
 * beyond are removed. Expiry: the item carries the record's `expires_at`, so native TTL removes
 * it with the record (the versions table has TTL on when `CATEGORY_TTL` is set).
 *
 * The same table holds the rollback states (rollbacks.ts) under `pk = "rollback"`: a key with
 * no NUL, so never a record's.
 */
import type { FeatureMap } from '../../model.js';
import type { RecordKey, RecordVersion } from '../ports.js';
import { itemSize, MAX_ITEM_BYTES } from './item-size.js';
import { ATTR, decodeData, encodeData, field, ttlSeconds, type Item } from './layout.js';

export const VERSIONS_ATTR = Object.freeze({ pk: 'pk', sk: 'sk' });
const SLOT = 'v';
/** Bytes kept free in a versions item beside the slots (key, expiry, names). */
const RESERVE_BYTES = 4096;

export function versionsKey(key: RecordKey): Item {
  return { [VERSIONS_ATTR.pk]: `${key.entityType}\u0000${key.entityValue}`, [VERSIONS_ATTR.sk]: key.category };
}

export interface VersionsAction {
  TableName: string;
  Key: Item;
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

export interface VersionSlot {
  data: FeatureMap;
  computeId: string | null;
  eventTime?: string | undefined;
  now: string;
  expiresAt?: string | undefined;
}

/**
 * The update that puts this write first and keeps `kept` earlier ones (fewer when the item
 * could pass 400 KB). Unconditional: it rides in the record write's transaction, whose record
 * action carries the conditions.
 */
export function versionsAction(table: string, key: RecordKey, kept: number, write: VersionSlot): VersionsAction {
  const slot: Item = { data: encodeData(write.data), compute_id: write.computeId, updated_at: write.now };
  if (write.eventTime !== undefined) slot.event_time = write.eventTime;
  const slotBytes = itemSize({ v00: slot });
  const fit = Math.max(1, Math.floor((MAX_ITEM_BYTES - RESERVE_BYTES) / slotBytes));
  const slots = Math.min(kept + 1, fit);
  const names: Record<string, string> = { '#x': ATTR.expiresAt };
  const values: Record<string, unknown> = { ':v': slot };
  const set: string[] = [];
  const remove: string[] = [];
  for (let i = 0; i < slots; i++) {
    names[`#v${i}`] = `${SLOT}${i}`;
    set.push(i === 0 ? '#v0 = :v' : `#v${i} = if_not_exists(#v${i - 1}, :none)`);
  }
  if (slots > 1) values[':none'] = null;
  // Slots past the count (a lower VERSIONS_KEPT, or a large record) are dropped.
  for (let i = slots; i <= Math.max(kept, slots); i++) {
    names[`#v${i}`] = `${SLOT}${i}`;
    remove.push(`#v${i}`);
  }
  if (write.expiresAt === undefined) remove.push('#x');
  else {
    values[':x'] = ttlSeconds(write.expiresAt);
    set.push('#x = :x');
  }
  return {
    TableName: table,
    Key: versionsKey(key),
    UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * The earlier versions in a versions item: slots older than the current record's `updated_at`,
 * newest first, at most `limit`. Malformed slots are skipped.
 */
export function decodeVersions(item: Item | undefined, currentUpdatedAt: string, limit: number): RecordVersion[] {
  if (item === undefined) return [];
  const versions: RecordVersion[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (!/^v\d+$/.test(name)) continue;
    const updatedAt = field(value, 'updated_at');
    const data = decodeData(field(value, 'data'));
    if (typeof updatedAt !== 'string' || data === undefined || updatedAt >= currentUpdatedAt) continue;
    const computeId = field(value, 'compute_id');
    const eventTime = field(value, 'event_time');
    versions.push({
      data,
      computeId: typeof computeId === 'string' ? computeId : null,
      ...(typeof eventTime === 'string' ? { eventTime } : {}),
      updatedAt,
    });
  }
  versions.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  return versions.slice(0, limit);
}
