import { isIndexKey } from '../service/feature-text.js';
import { batchOutputOfText } from '../service/batch-text.js';
import type { FeatureBatchTextOutput, FeatureSelectionOutput } from '../service/feature-service.js';
import { batchReadJson, jsonString, multiReadJson, splicesAsKey } from './response-json.js';

/**
 * The batch read's response from its answer as text (`readsNow.readFeaturesBatchText`): byte for
 * byte `batchReadJson` of the same answer as records (test/http/batch-read-text.test.ts), built
 * without them — each record's stored (or picked) data text and its metadata text spliced in,
 * each category's and the entity type's JSON once per response. Where splicing
 * could change the bytes (an index-like category, which an object puts first; an entity type
 * that is one of the record's fixed keys) it goes through `batchReadJson`.
 */
export function batchReadTextJson(out: FeatureBatchTextOutput): string {
  const { entityType, categories, records } = out;
  if (!splicesAsKey(entityType) || categories.some(isIndexKey)) return batchReadJson(batchOutputOfText(out));
  const typeJson = jsonString(entityType);
  const keys = categories.map((category) => JSON.stringify(category));
  let refused = '';
  for (const category of out.refused) refused += `,${JSON.stringify(category)}`;
  const n = categories.length;
  let results = '';
  for (let e = 0; e < out.entityValues.length; e++) {
    const valueJson = jsonString(out.entityValues[e] as string);
    let items = '';
    let missing = '';
    for (let c = 0; c < n; c++) {
      const shown = records[e * n + c];
      const key = keys[c] as string;
      if (shown === undefined) missing += `,${key}`;
      else items += `,${key}:{${typeJson}:${valueJson},"category":${key},"features":{"data":${shown.data},"meta":${shown.meta}}}`;
    }
    const unavailable = missing + refused;
    results += `${e === 0 ? '' : ','}{"entity_value":${valueJson},"items":{${items.slice(1)}},"unavailable_feature_categories":[${unavailable.slice(1)}]}`;
  }
  return `{"entity_type":${typeJson},"results":[${results}]}`;
}

/**
 * The multi-read's response from its answer as text (`readsNow.readFeaturesText`, one entity
 * value): byte for byte `multiReadJson` of the same answer as records
 * (test/http/batch-text-json.test.ts), built as `batchReadTextJson` builds an entity's result,
 * with the same fallback to the records' serialization.
 */
export function multiReadTextJson(out: FeatureBatchTextOutput): string {
  const { entityType, categories, records } = out;
  if (out.entityValues.length !== 1 || !splicesAsKey(entityType) || categories.some(isIndexKey)) {
    return multiReadJson(batchOutputOfText(out).results[0] as FeatureSelectionOutput);
  }
  const typeJson = jsonString(entityType);
  const valueJson = jsonString(out.entityValues[0] as string);
  let items = '';
  let unavailable = '';
  for (let c = 0; c < categories.length; c++) {
    const shown = records[c];
    const key = JSON.stringify(categories[c]);
    if (shown === undefined) unavailable += `,${key}`;
    else items += `,${key}:{${typeJson}:${valueJson},"category":${key},"features":{"data":${shown.data},"meta":${shown.meta}}}`;
  }
  for (const category of out.refused) unavailable += `,${JSON.stringify(category)}`;
  return `{"entity_value":${valueJson},"entity_type":${typeJson},"items":{${items.slice(1)}},"unavailable_feature_categories":[${unavailable.slice(1)}]}`;
}
