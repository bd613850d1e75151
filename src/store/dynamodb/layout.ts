import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { KeyNotStorableError } from '../../errors.js';
import type { FeatureMap, FeatureRecord, JsonValue, RecordMeta } from '../../model.js';
import type { RecordKey } from '../ports.js';
import { normalizeTimestamp } from '../../timestamps.js';
import { utf8Length } from './item-size.js';

/**
 * The record item layout of the old service's tables, which this backend keeps exactly (key
 * schema and the `features` map), plus one optional attribute inside the metadata map:
 *
 *   { <entity type>: "user-1", category: "d0_unauth_features",
 *     features: { data: { … }, meta: { created_at, updated_at, compute_id, event_time? } } }
 *
 * One table per entity type; its partition key attribute is named after the entity type
 * (`bright_uid`, `account_pid`), its sort key is `category`. The old service ignores
 * `meta.event_time` (it rewrites `meta` as a whole, which drops it: the next write then applies
 * as if the record had no event time). Lineage adds top-level attributes beside `features`, which the old
 * service ignores: the compute history positions (history.ts) and the by-compute-id index keys
 * (by-compute-id.ts). Pending change events are not kept here but in the
 * outbox table (outbox-item.ts), so deleting or expiring a record item never loses one.
 *
 * Contract: `encodeData`/`decodeData` round-trip every JSON feature map exactly; `toRecord`
 * reads both this service's items and the old service's, canonicalizing timestamps, and throws
 * `MalformedItemError` only for an item that is not a record at all.
 */
export const ATTR = Object.freeze({
  category: 'category',
  features: 'features',
  data: 'data',
  meta: 'meta',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  computeId: 'compute_id',
  /** Canonical event time of the latest write; absent when that write gave none. */
  eventTime: 'event_time',
  /**
   * Top-level, epoch seconds: the table's native TTL attribute (`tables create` turns TTL on
   * when `CATEGORY_TTL` is set). Present only on records of a category with a TTL at their
   * latest write; the old service never reads it.
   */
  expiresAt: 'expires_at',
});

/** Item attributes that belong to this layout; an entity type may not be named like one. */
export const LAYOUT_ATTRIBUTES: readonly string[] = [ATTR.category, ATTR.features, ATTR.expiresAt];

/** A canonical timestamp as the epoch seconds DynamoDB's TTL reads (rounded up: never early). */
export function ttlSeconds(canonical: string): number {
  return Math.ceil(Date.parse(canonical) / 1000);
}

/** DynamoDB's limits on key attribute values, in UTF-8 bytes. */
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;

/**
 * DynamoDB refuses values nested more than 31 containers deep, counting the item attribute
 * itself (`features`, then `data`); a feature's own containers may therefore be 29 deep.
 */
export const MAX_NATIVE_FEATURE_DEPTH = 29;
const MIN_NUMBER_MAGNITUDE = 1e-130;
// A lone UTF-16 surrogate cannot be encoded as UTF-8, so DynamoDB could not store it as sent.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Map keys the SDK's (un)marshalling cannot carry: it builds maps by assignment, and assigning
 * `__proto__` sets a prototype instead of adding a key; it tells a map from other values by
 * `value.constructor.name`, so a key named `constructor` makes it refuse (or misread) the map.
 */
export function unsafeKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || LONE_SURROGATE.test(key);
}

export type Item = Record<string, NativeAttributeValue>;

/** The field that makes a key one DynamoDB cannot hold, or undefined when it can hold it. */
export function unstorableField(entityValue: string, category: string): 'entity_value' | 'category' | undefined {
  if (entityValue === '' || utf8Length(entityValue) > MAX_PARTITION_KEY_BYTES) return 'entity_value';
  if (category === '' || utf8Length(category) > MAX_SORT_KEY_BYTES) return 'category';
  return undefined;
}

/** Rejects a write to a key DynamoDB cannot hold, naming the field (a 422 there). */
export function assertStorable(key: RecordKey): void {
  const field = unstorableField(key.entityValue, key.category);
  if (field === 'entity_value') {
    throw new KeyNotStorableError(field, `String should have at most ${MAX_PARTITION_KEY_BYTES} bytes in UTF-8 (the DynamoDB partition key limit)`);
  }
  if (field === 'category') {
    throw new KeyNotStorableError(field, `String should have at most ${MAX_SORT_KEY_BYTES} bytes in UTF-8 (the DynamoDB sort key limit)`);
  }
}

/**
 * Whether a value can be stored as a native DynamoDB value and read back exactly: nesting within
 * DynamoDB's limit, numbers within DynamoDB's range (|n| ≥ 1e-130, and exact in JavaScript), no
 * unpaired surrogates in strings, no unsafe keys.
 */
function isNative(value: JsonValue, depth: number): boolean {
  switch (typeof value) {
    case 'number':
      return value === 0 || (Math.abs(value) >= MIN_NUMBER_MAGNITUDE && Math.abs(value) <= Number.MAX_SAFE_INTEGER);
    case 'string':
      return !LONE_SURROGATE.test(value);
    case 'boolean':
      return true;
    default: {
      if (value === null) return true;
      if (depth + 1 > MAX_NATIVE_FEATURE_DEPTH) return false;
      if (Array.isArray(value)) return value.every((v) => isNative(v, depth + 1));
      return Object.entries(value).every(([k, v]) => !unsafeKey(k) && isNative(v, depth + 1));
    }
  }
}

function toBinary(value: JsonValue | FeatureMap): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function fromBinary(bytes: Uint8Array): JsonValue {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as JsonValue;
}

/**
 * `features.data` as stored. Every feature is a native DynamoDB value (so the old service and
 * any other reader see plain maps, lists and numbers) unless DynamoDB cannot hold it exactly:
 * then that feature alone is stored as a Binary holding its JSON text. JSON never produces a
 * Binary, so the encoding is unambiguous; if a feature *name* cannot be carried (see
 * `unsafeKey`), the whole map is one Binary.
 */
export function encodeData(data: FeatureMap): Item | Uint8Array {
  const out: Item = {};
  for (const [name, value] of Object.entries(data)) {
    if (unsafeKey(name)) return toBinary(data);
    out[name] = isNative(value, 0) ? value : toBinary(value);
  }
  return out;
}

/** One feature's value as `encodeData` stores it inside a native map (for per-feature updates). */
export function encodeFeature(value: JsonValue): JsonValue | Uint8Array {
  return isNative(value, 0) ? value : toBinary(value);
}

/** Inverse of `encodeData`; also reads the old service's maps (numbers arrive as numbers). */
export function decodeData(stored: unknown): FeatureMap | undefined {
  if (stored instanceof Uint8Array) return fromBinary(stored) as FeatureMap;
  if (!isPlainObject(stored)) return undefined;
  const out: FeatureMap = {};
  for (const [name, value] of Object.entries(stored)) {
    out[name] = value instanceof Uint8Array ? fromBinary(value) : (value as JsonValue);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Thrown when a stored item does not have the record layout (never for a missing item). */
export class MalformedItemError extends Error {
  constructor(table: string, detail: string) {
    super(`DynamoDB table '${table}' holds an item that is not a feature record: ${detail}`);
    this.name = 'MalformedItemError';
  }
}

/**
 * An item (projected to key, category and features) as a record. Timestamps are normalized:
 * the old service wrote `2025-10-16T10:00:00.123456+00:00`.
 */
export function toRecord(table: string, entityType: string, entityValue: string, item: Item): FeatureRecord {
  const features: unknown = item[ATTR.features];
  if (!isPlainObject(features)) throw new MalformedItemError(table, 'no features map');
  const data = decodeData(features[ATTR.data]);
  const meta: unknown = features[ATTR.meta];
  if (data === undefined || !isPlainObject(meta)) throw new MalformedItemError(table, 'no features.data or features.meta');
  const created = meta[ATTR.createdAt];
  const updated = meta[ATTR.updatedAt];
  const createdAt = typeof created === 'string' ? created : typeof updated === 'string' ? updated : undefined;
  const updatedAt = typeof updated === 'string' ? updated : createdAt;
  if (createdAt === undefined || updatedAt === undefined) throw new MalformedItemError(table, 'no timestamps in features.meta');
  const category: unknown = item[ATTR.category];
  if (typeof category !== 'string') throw new MalformedItemError(table, 'no category');
  const computeId = meta[ATTR.computeId];
  const eventTime = meta[ATTR.eventTime];
  const recordMeta: RecordMeta = {
    created_at: normalizeTimestamp(createdAt),
    updated_at: normalizeTimestamp(updatedAt),
    compute_id: typeof computeId === 'string' ? computeId : null,
  };
  if (typeof eventTime === 'string') recordMeta.event_time = eventTime;
  return { entityType, entityValue, category, data, meta: recordMeta };
}

/**
 * What a `ReturnValuesOnConditionCheckFailure: ALL_OLD` item says about the record. Such items
 * arrive as raw attribute values (`{ M: … }`): the document client does not unmarshall errors.
 */
export interface OldRecordState {
  /** The item has `features.meta` (it is a record). */
  hasMeta: boolean;
  /** Stored `features.meta.event_time`, if any. */
  eventTime: string | undefined;
}

export function oldRecordState(raw: unknown): OldRecordState {
  const meta = field(field(field(field(raw, ATTR.features), 'M'), ATTR.meta), 'M');
  const eventTime = field(field(meta, ATTR.eventTime), 'S');
  return { hasMeta: meta !== undefined, eventTime: typeof eventTime === 'string' ? eventTime : undefined };
}

/** `value[name]` when `value` is an object, else undefined. */
export function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}
