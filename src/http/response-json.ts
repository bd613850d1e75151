import type { FastifyReply } from 'fastify';
import { recordDataText, type FeatureRecord, type RecordMeta } from '../model.js';
import { isIndexKey } from '../service/feature-text.js';
import type { FeatureBatchOutput, FeatureSelectionOutput } from '../service/feature-service.js';
import { batchReadResponse, multiReadResponse, recordResponse } from './responses.js';

/**
 * The read responses as JSON text, byte for byte what `JSON.stringify` gives for the objects in
 * responses.ts, with each record's `data` spliced in as the text the store read it from (see
 * `recordDataText`) instead of serialized again. Where splicing could change the bytes (a key
 * that would reorder or collide in the object), the object is serialized as it is.
 */

/** Characters `JSON.stringify` may escape in a string (a surrogate only when unpaired; any sends the string to it). */
// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify(text)`: the text in quotes when nothing in it is escaped (no quote, backslash,
 * control character or surrogate), else `JSON.stringify` itself. A third of the cost for short
 * strings such as entity values and timestamps.
 */
export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** Keys of metadata objects as JSON, each serialized once per process (a handful of names). */
const metaKeys = new Map<string, string>();

/**
 * `JSON.stringify(meta)` for metadata whose values are strings or null (every record's: times,
 * compute id), in the object's own key order; anything else is left to `JSON.stringify`. Measured
 * 0.25–0.5 µs against 0.6–0.9 µs per record.
 */
function metaJson(meta: RecordMeta): string {
  let out = '';
  for (const key in meta) {
    if (!Object.hasOwn(meta, key)) return JSON.stringify(meta);
    const value: unknown = meta[key as keyof RecordMeta];
    if (value === undefined) continue;
    if (typeof value !== 'string' && value !== null) return JSON.stringify(meta);
    let keyJson = metaKeys.get(key);
    if (keyJson === undefined) {
      keyJson = JSON.stringify(key);
      if (metaKeys.size < 64) metaKeys.set(key, keyJson);
    }
    out += `${out === '' ? '{' : ','}${keyJson}:${value === null ? 'null' : jsonString(value)}`;
  }
  return out === '' ? '{}' : `${out}}`;
}

/** `JSON.stringify` of a list of categories: most batch results have none. */
function listJson(list: readonly string[]): string {
  return list.length === 0 ? '[]' : JSON.stringify(list);
}

/** Only the entity type's key is chosen by configuration; it must not replace a fixed key. */
function splicesAsRecord(record: FeatureRecord): boolean {
  return splicesAsKey(record.entityType);
}

/** Whether a record's entity type, as its first key, leaves the record's fixed keys (`category`, `features`) alone. */
export function splicesAsKey(entityType: string): boolean {
  return entityType !== 'category' && entityType !== 'features';
}

export function recordJson(record: FeatureRecord): string {
  return splicedRecordJson(record, ownerOf(record.entityType, record.entityValue), JSON.stringify(record.category)) ?? JSON.stringify(recordResponse(record));
}

/** The entity whose records a response lists, with its type and value as JSON (serialized once). */
interface Owner {
  type: string;
  value: string;
  typeJson: string;
  valueJson: string;
}

function ownerOf(type: string, value: string, typeJson = jsonString(type)): Owner {
  return { type, value, typeJson, valueJson: jsonString(value) };
}

/** `recordJson` with the category's JSON given, or undefined when the record does not splice. */
function splicedRecordJson(record: FeatureRecord, owner: Owner, categoryJson: string): string | undefined {
  const text = recordDataText(record);
  if (text === undefined || !splicesAsRecord(record)) return undefined;
  const typeJson = record.entityType === owner.type ? owner.typeJson : jsonString(record.entityType);
  const valueJson = record.entityValue === owner.value ? owner.valueJson : jsonString(record.entityValue);
  return `{${typeJson}:${valueJson},"category":${categoryJson},"features":{"data":${text},"meta":${metaJson(record.meta)}}}`;
}

/**
 * The categories' JSON keys of one response, each checked and serialized once however many
 * records it has: a batch read repeats the same few categories for every entity. Null for an
 * index-like category.
 */
type CategoryKeys = Map<string, string | null>;

function categoryKey(keys: CategoryKeys, category: string): string | null {
  let key = keys.get(category);
  if (key === undefined) {
    key = isIndexKey(category) ? null : JSON.stringify(category);
    keys.set(category, key);
  }
  return key;
}

/**
 * `items` (records by category) as JSON, or undefined when the object would not keep the
 * records' order (an index-like category) or holds a category twice (the later record wins in
 * the object, at the earlier one's place).
 */
function itemsJson(records: readonly FeatureRecord[], owner: Owner, keys: CategoryKeys): string | undefined {
  let out = '{';
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as FeatureRecord;
    const key = categoryKey(keys, record.category);
    if (key === null) return undefined;
    for (let j = 0; j < i; j++) if ((records[j] as FeatureRecord).category === record.category) return undefined;
    out += `${i === 0 ? '' : ','}${key}:${splicedRecordJson(record, owner, key) ?? JSON.stringify(recordResponse(record))}`;
  }
  return `${out}}`;
}

export function multiReadJson(out: FeatureSelectionOutput): string {
  const owner = ownerOf(out.entityType, out.entityValue);
  const items = itemsJson(out.records, owner, new Map());
  if (items === undefined) return JSON.stringify(multiReadResponse(out));
  return `{"entity_value":${owner.valueJson},"entity_type":${owner.typeJson},"items":${items},"unavailable_feature_categories":${listJson(out.unavailable)}}`;
}

export function batchReadJson(out: FeatureBatchOutput): string {
  const typeJson = jsonString(out.entityType);
  const keys: CategoryKeys = new Map();
  let results = '';
  for (let i = 0; i < out.results.length; i++) {
    const r = out.results[i] as FeatureSelectionOutput;
    const owner = ownerOf(r.entityType, r.entityValue, r.entityType === out.entityType ? typeJson : undefined);
    const items = itemsJson(r.records, owner, keys);
    if (items === undefined) return JSON.stringify(batchReadResponse(out));
    results += `${i === 0 ? '' : ','}{"entity_value":${owner.valueJson},"items":${items},"unavailable_feature_categories":${listJson(r.unavailable)}}`;
  }
  return `{"entity_type":${typeJson},"results":[${results}]}`;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Sends JSON text built here (Fastify sends a string with a JSON content type as it is). */
export function sendJson(reply: FastifyReply, text: string): FastifyReply {
  return reply.type(JSON_CONTENT_TYPE).send(text);
}
