import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { d0Features, entityValue, ncrFeatures, prng } from '../../bench/seed.js';
import { batchReadTextJson, multiReadTextJson } from '../../src/http/batch-text-json.js';
import { batchReadJson, multiReadJson } from '../../src/http/response-json.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { createFeatureService, type FeatureService } from '../../src/service/feature-service.js';
import type { FeatureStore } from '../../src/store/ports.js';
import { openStore, testConfig, type BackendInstance } from '../support/backend.js';
import { sqliteBackend } from '../support/sqlite-backend.js';

/**
 * The batch read as text (`readsNow.readFeaturesBatchText` + `batchReadTextJson`, SQLite's fast
 * path) against the record path (`readsNow.readFeaturesBatch` + `batchReadJson`) on one store,
 * and the multi-read as text (`readsNow.readFeaturesText` + `multiReadTextJson`) against its
 * record path (`readsNow.readFeatures` + `multiReadJson`) for every entity value of each batch:
 * the same bytes and the same read metrics for the bench's data, for text that is easy to get
 * wrong, for rows in the old service's timestamp format, for a category with a TTL (the
 * millisecond before and at expiry), for missing and repeated entities, for selections of named
 * features across categories (array-index and `__proto__` names), refused categories and an
 * index-like category (whose response the text path leaves to `batchReadJson`).
 */

const D0 = 'd0_unauth_features';
const NCR = 'ncr_unauth_features';
const INDEX_CAT = '10';
const T0 = '2025-10-16T10:00:00.000Z';
const HOUR = 3_600_000;

describe('batch read and multi-read as text, byte for byte the record path (SQLite)', () => {
  let instance: BackendInstance;
  let store: FeatureStore;
  let metrics: Metrics;
  let service: FeatureService;
  let nowMs = Date.parse(T0);
  const env = { CATEGORY_WHITELIST: `${D0},${NCR},${INDEX_CAT}`, CATEGORY_TTL: `${NCR}=1h` };

  before(async () => {
    instance = await sqliteBackend.setup();
    store = await openStore(instance, env);
    metrics = createMetrics({ processMetrics: false });
    service = createFeatureService({ store, config: testConfig(instance, env), clock: () => new Date(nowMs), metrics });
  });
  after(async () => {
    await store.close();
    await instance.teardown();
  });

  const write = async (entity: string, category: string, features: Record<string, unknown>, extra: { computeId?: string | null; eventTime?: string } = {}) => {
    await service.writeCategory({ source: 'prediction_service', entityType: 'bright_uid', entityValue: entity, category, features, ...extra });
  };

  /** Two response texts of one read, the record path's then the text path's, and what each added to the read counters. */
  const counted = async (viaRecords: () => string, viaText: () => string) => {
    const counters = async () => JSON.stringify((await metrics.reads.get()).values);
    const start = await counters();
    const records = viaRecords();
    const afterRecords = await counters();
    const text = viaText();
    return { records, text, counted: [start, afterRecords, await counters()] };
  };

  /** The batch read both ways. */
  const both = async (entityValues: string[], featureList: string[]) => {
    const now = service.readsNow;
    const text = now?.readFeaturesBatchText;
    assert.ok(now !== undefined && text !== undefined, 'SQLite reads stored text');
    const input = { entityType: 'bright_uid', entityValues, featureList };
    return counted(() => batchReadJson(now.readFeaturesBatch(input)), () => batchReadTextJson(text(input)));
  };

  /** The multi-read of one entity value both ways. */
  const bothMulti = async (entityValue: string, featureList: string[]) => {
    const now = service.readsNow;
    const text = now?.readFeaturesText;
    assert.ok(now !== undefined && text !== undefined, 'SQLite reads stored text');
    const input = { entityType: 'bright_uid', entityValue, featureList };
    return counted(() => multiReadJson(now.readFeatures(input)), () => multiReadTextJson(text(input)));
  };

  /** Every counter went up by as much on the second read as on the first, and the first counted. */
  const assertSameCounts = (counted: string[], what: string): void => {
    assert.notEqual(counted[1], counted[0], `${what}: the record path counted its reads`);
    const values = counted.map((c) => new Map((JSON.parse(c) as { labels: object; value: number }[]).map((v) => [JSON.stringify(v.labels), v.value])));
    for (const [labels, value] of values[2] as Map<string, number>) {
      const first = (values[1]?.get(labels) ?? 0) - (values[0]?.get(labels) ?? 0);
      assert.equal(value - (values[1]?.get(labels) ?? 0), first, `${what}: read counter ${labels}`);
    }
  };

  const assertSame = async (entityValues: string[], featureList: string[]): Promise<string> => {
    const { records, text, counted } = await both(entityValues, featureList);
    assert.equal(text, records, `${featureList.join(' ')}`);
    assertSameCounts(counted, 'batch');
    for (const entityValue of new Set(entityValues)) {
      const multi = await bothMulti(entityValue, featureList);
      assert.equal(multi.text, multi.records, `multi-read of ${entityValue}: ${featureList.join(' ')}`);
      assertSameCounts(multi.counted, `multi-read of ${entityValue}`);
    }
    return text;
  };

  test("the bench's data: whole categories and the multi-read's selection, found and missing entities", async () => {
    const r = prng(5);
    const entities: string[] = [];
    for (let n = 0; n < 60; n++) {
      const entity = entityValue(n);
      entities.push(entity);
      await write(entity, D0, d0Features(r), { computeId: `job-${n % 3}` });
      if (n % 4 === 0) await write(entity, NCR, ncrFeatures(r), { computeId: null });
    }
    const asked = [...entities.slice(0, 40), 'user-none', entities[3] as string, 'user-none', ...entities.slice(40)];
    for (const featureList of [[`${D0}:*`], [`${D0}:*`, `${NCR}:credit_score`, `${NCR}:ncr_score`], [`${NCR}:*`, `${D0}:*`], [`${D0}:tier`, `${D0}:nope`]]) {
      await assertSame(asked, featureList);
    }
  });

  test('escapes, non-ASCII, array-index and __proto__ names, event times, old timestamp formats, refused and index-like categories', async () => {
    const nasty = { z: 1, '10': 'ten', ['__proto__']: { nested: [1, '}'] }, text: 'a "q" \\ \u2028 \u0007 é 😀 ,}]', 'ключ "x"': 'значение', nothing: null, big: 9007199254740991, tiny: 5e-324 };
    const values = ['quote"d', 'back\\slash', 'e\u0301', '😀', 'sep\u2028line', '{"json":1}'].map((v) => `nasty-${v}`);
    for (const [i, value] of values.entries()) {
      await write(value, D0, { ...nasty, i }, { computeId: i % 2 === 0 ? 'job "ü" \\ 😀' : null, ...(i % 3 === 0 ? { eventTime: '2025-10-16T09:00:00+02:00' } : {}) });
      if (i % 2 === 0) await write(value, NCR, { score: i / 7, name: value });
      if (i % 3 === 1) await write(value, INDEX_CAT, { n: i });
    }
    // A write first, so that the table exists; then the row in the old format over it.
    await store.writeRecord({ key: { entityType: 'bright_uid', entityValue: 'nasty-legacy', category: D0 }, data: { old: true }, computeId: null, now: T0 });
    await instance.insertLegacy({ entityType: 'bright_uid', entityValue: 'nasty-legacy', category: D0, data: { old: true }, createdAt: '2025-10-16T10:00:00+00:00', updatedAt: '2025-10-16 10:00:00.123456+00:00', computeId: null });
    const asked = [...values, 'nasty-legacy', 'nasty-none', values[0] as string];
    for (const featureList of [
      [`${D0}:*`, `${NCR}:*`],
      [`${D0}:10`, `${D0}:__proto__`, `${D0}:text`, `${D0}:missing`, `${NCR}:name`],
      [`${D0}:text`, `${D0}:ключ "x"`, `${D0}:z`],
      [`${NCR}:score`, `refused:*`, `${D0}:*`, `other:x`],
      [`${D0}:*`, `${INDEX_CAT}:*`],
    ]) {
      await assertSame(asked, featureList);
    }
    const legacy = await assertSame(['nasty-legacy'], [`${D0}:*`]);
    assert.match(legacy, /"created_at":"2025-10-16T10:00:00\.000Z","updated_at":"2025-10-16T10:00:00\.123Z"/);
  });

  test('the multi-read as text refuses what the record path refuses, with the same error', () => {
    const now = service.readsNow;
    const readText = now?.readFeaturesText;
    assert.ok(now !== undefined && readText !== undefined, 'SQLite reads stored text');
    for (const input of [
      { entityType: 'no_such_type', entityValue: 'user-0', featureList: [`${D0}:*`] },
      { entityType: '', entityValue: 'user-0', featureList: [`${D0}:*`, `${NCR}:x`] },
    ]) {
      let recordError: unknown;
      try {
        now.readFeatures(input);
      } catch (err) {
        recordError = err;
      }
      assert.ok(recordError instanceof Error, `${input.entityType}: the record path refuses it`);
      assert.throws(
        () => readText(input),
        (err: unknown) => err instanceof Error && err.constructor === recordError?.constructor && JSON.stringify(err) === JSON.stringify(recordError) && err.message === recordError.message,
      );
    }
  });

  test('a category with a TTL: expires_at until the millisecond it runs out, then unavailable', async () => {
    nowMs = Date.parse(T0);
    await write('ttl-a', NCR, { s: 1 }, { eventTime: T0 });
    await write('ttl-a', D0, { d: 1 });
    nowMs += 1_000;
    await write('ttl-b', NCR, { s: 2 });
    nowMs = Date.parse(T0) + HOUR - 1;
    const live = await assertSame(['ttl-a', 'ttl-b', 'ttl-none'], [`${NCR}:*`, `${D0}:*`]);
    assert.match(live, /"expires_at":"2025-10-16T11:00:00.000Z"/);
    nowMs += 1;
    const half = await assertSame(['ttl-a', 'ttl-b'], [`${NCR}:s`, `${D0}:*`]);
    assert.match(half, /^\{"entity_type":"bright_uid","results":\[\{"entity_value":"ttl-a","items":\{"d0_unauth_features":.*"unavailable_feature_categories":\["ncr_unauth_features"\]\},\{"entity_value":"ttl-b","items":\{"ncr_unauth_features"/);
    nowMs += 1_000;
    await assertSame(['ttl-a', 'ttl-b'], [`${NCR}:*`]);
  });

  test('metadata the store cannot pass through as SQL wrote it: compute ids with the separator or escapes, old and damaged timestamps, with and without a TTL; long data', async () => {
    nowMs = Date.parse(T0) + 1_000;
    const computeIds = ['\u0001', 'a\u0001b', '\u001f\u007f\t\n\r\b\f', '","updated_at":"2025-10-16T10:00:00.000Z', '\u2028😀é', '', 'x\\', '\u0000', 'plain'];
    const values = computeIds.map((_, i) => `meta-${i}`);
    for (const [i, value] of values.entries()) {
      await write(value, D0, { i, sep: '\u0001', ts: T0 }, { computeId: computeIds[i] as string });
      await write(value, NCR, { i }, { computeId: computeIds[i] as string, ...(i % 2 === 0 ? { eventTime: '2025-10-16T09:00:00.5+02:00' } : {}) });
    }
    const legacy = [
      { entityValue: 'old-updated', createdAt: T0, updatedAt: '2025-10-16 10:00:00.123456+00:00' },
      { entityValue: 'old-created', createdAt: '2025-10-16T10:00:00+00:00', updatedAt: T0 },
      { entityValue: 'old-both', createdAt: '2025-10-16T10:00:00.1+00:00', updatedAt: '2025-10-16T12:00:00.999+02:00' },
    ];
    for (const row of legacy) {
      for (const category of [D0, NCR]) {
        await write(row.entityValue, category, { x: 1 });
        await instance.insertLegacy({ entityType: 'bright_uid', category, data: { old: row.entityValue }, computeId: 'old "job"', ...row });
      }
    }
    // A created_at that is no date at all is shown as stored (no TTL on D0: its updated_at is not read).
    await write('damaged', D0, { x: 1 });
    await instance.insertLegacy({ entityType: 'bright_uid', entityValue: 'damaged', category: D0, data: { d: 1 }, createdAt: 'not a "date"\u0001', updatedAt: T0, computeId: null });
    const long = 'é'.repeat(100_000);
    await write('long', D0, { long, list: Array.from({ length: 2_000 }, (_, i) => i) }, { computeId: 'c'.repeat(256) });
    const asked = [...values, ...legacy.map((r) => r.entityValue), 'damaged', 'long', 'none'];
    for (const featureList of [[`${D0}:*`], [`${D0}:*`, `${NCR}:*`], [`${NCR}:i`, `${D0}:sep`]]) {
      await assertSame(asked, featureList);
    }
    const shown = await assertSame(['meta-0', 'old-both', 'damaged'], [`${D0}:*`, `${NCR}:*`]);
    assert.ok(shown.includes('"compute_id":"\\u0001"'), 'the separator in a compute id is escaped as JSON.stringify escapes it');
    assert.match(shown, /"created_at":"2025-10-16T10:00:00\.100Z","updated_at":"2025-10-16T10:00:00\.999Z","compute_id":"old \\"job\\"","expires_at":"2025-10-16T11:00:00\.999Z"/);
    assert.ok(shown.includes('"created_at":"not a \\"date\\"\\u0001"'), 'a damaged timestamp shown as stored, escaped');
    // Expiry counts from updated_at, not created_at: rewritten half an hour later, it is shown past the first write's hour.
    await write('rewritten', NCR, { v: 1 });
    nowMs += HOUR / 2;
    await write('rewritten', NCR, { v: 2 });
    nowMs += HOUR / 2 + 1;
    const rewritten = await assertSame(['rewritten'], [`${NCR}:*`]);
    assert.match(rewritten, /"v":2\}.*"expires_at"/);
  });
});
