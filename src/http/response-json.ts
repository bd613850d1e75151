import type { FastifyReply } from 'fastify';
import { recordDataText, type FeatureRecord } from '../model.js';
import { isIndexKey } from '../service/feature-text.js';
import type { FeatureBatchOutput, FeatureSelectionOutput } from '../service/feature-service.js';
import { batchReadResponse, multiReadResponse, recordResponse } from './responses.js';

/**
 * The read responses as JSON text, byte for byte what `JSON.stringify` gives for the objects in
 * responses.ts, with each record's `data` spliced in as the text the store read it from (see
 * `recordDataText`) instead of serialized again. Where splicing could change the bytes (a key
 * that would reorder or collide in the object), the object is serialized as it is.
 */

/** Only the entity type's key is chosen by configuration; it must not replace a fixed key. */
function splicesAsRecord(record: FeatureRecord): boolean {
  return record.entityType !== 'category' && record.entityType !== 'features';
}

export function recordJson(record: FeatureRecord): string {
  const text = recordDataText(record);
  if (text === undefined || !splicesAsRecord(record)) return JSON.stringify(recordResponse(record));
  return `{${JSON.stringify(record.entityType)}:${JSON.stringify(record.entityValue)},"category":${JSON.stringify(record.category)},"features":{"data":${text},"meta":${JSON.stringify(record.meta)}}}`;
}

/**
 * `items` (records by category) as JSON, or undefined when the object would not keep the
 * records' order (an index-like category) or holds a category twice (the later record wins in
 * the object, at the earlier one's place).
 */
function itemsJson(records: readonly FeatureRecord[]): string | undefined {
  let out = '{';
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as FeatureRecord;
    if (isIndexKey(record.category)) return undefined;
    for (let j = 0; j < i; j++) if ((records[j] as FeatureRecord).category === record.category) return undefined;
    out += `${i === 0 ? '' : ','}${JSON.stringify(record.category)}:${recordJson(record)}`;
  }
  return `${out}}`;
}

export function multiReadJson(out: FeatureSelectionOutput): string {
  const items = itemsJson(out.records);
  if (items === undefined) return JSON.stringify(multiReadResponse(out));
  return `{"entity_value":${JSON.stringify(out.entityValue)},"entity_type":${JSON.stringify(out.entityType)},"items":${items},"unavailable_feature_categories":${JSON.stringify(out.unavailable)}}`;
}

export function batchReadJson(out: FeatureBatchOutput): string {
  let results = '';
  for (let i = 0; i < out.results.length; i++) {
    const r = out.results[i] as FeatureSelectionOutput;
    const items = itemsJson(r.records);
    if (items === undefined) return JSON.stringify(batchReadResponse(out));
    results += `${i === 0 ? '' : ','}{"entity_value":${JSON.stringify(r.entityValue)},"items":${items},"unavailable_feature_categories":${JSON.stringify(r.unavailable)}}`;
  }
  return `{"entity_type":${JSON.stringify(out.entityType)},"results":[${results}]}`;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Sends JSON text built here (Fastify sends a string with a JSON content type as it is). */
export function sendJson(reply: FastifyReply, text: string): FastifyReply {
  return reply.type(JSON_CONTENT_TYPE).send(text);
}
