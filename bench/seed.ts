import type { FeatureMap } from '../src/model.js';
import type { WriteRecordInput } from '../src/store/ports.js';

/**
 * The benchmark's data set. Entities are `user-<n>` under `bright_uid`. Every entity has a
 * `d0_unauth_features` record; the first `dual` entities also have `ncr_unauth_features`, so
 * multi-reads of those hit two categories. Feature maps are deterministic (seeded PRNG) and
 * realistic: ~10 features of ints, floats, strings, booleans, a null and a small array.
 */
export const ENTITY_TYPE = 'bright_uid';
export const D0 = 'd0_unauth_features';
export const NCR = 'ncr_unauth_features';
export const ENTITY_TABLES = { bright_uid: 'user_feature_store', account_pid: 'account_feature_store' };

export interface DataSet {
  /** Entities with a d0 record: `user-0` … `user-<entities-1>`. */
  entities: number;
  /** Entities `user-0` … `user-<dual-1>` also have an ncr record. */
  dual: number;
  records: number;
}

/** Splits `records` into entities with one category and a subset with both (4:1). */
export function dataSet(records: number): DataSet {
  const dual = Math.floor(records / 5);
  return { entities: records - dual, dual, records };
}

export function entityValue(n: number): string {
  return `user-${n}`;
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TIERS = ['A', 'B', 'C', 'D', 'E'];
const SEGMENTS = ['super_prime', 'prime', 'near_prime', 'subprime', 'thin_file'];
const BUREAUS = ['experian', 'equifax', 'transunion'];

function int(r: () => number, min: number, max: number): number {
  return min + Math.floor(r() * (max - min + 1));
}

/** A float with 4 decimals: exactly representable round-trip through JSON. */
function dec(r: () => number, min: number, max: number): number {
  return Math.round((min + r() * (max - min)) * 10_000) / 10_000;
}

export function d0Features(r: () => number): FeatureMap {
  const delinquencies = int(r, 0, 4);
  return {
    credit_score: int(r, 300, 850),
    debt_to_income_ratio: dec(r, 0, 1.2),
    annual_income: int(r, 12_000, 250_000),
    credit_utilization: dec(r, 0, 1),
    open_accounts: int(r, 0, 30),
    delinquencies_24m: delinquencies,
    months_since_last_delinquency: delinquencies === 0 ? null : int(r, 0, 24),
    risk_tier: TIERS[int(r, 0, TIERS.length - 1)] ?? 'C',
    segment: SEGMENTS[int(r, 0, SEGMENTS.length - 1)] ?? 'prime',
    score_history: Array.from({ length: 6 }, () => int(r, 300, 850)),
    thin_file: r() < 0.1,
  };
}

export function ncrFeatures(r: () => number): FeatureMap {
  return {
    credit_score: int(r, 300, 850),
    ncr_score: dec(r, 0, 1),
    inquiries_6m: int(r, 0, 12),
    oldest_account_months: int(r, 0, 480),
    total_balance: int(r, 0, 400_000),
    revolving_balance: int(r, 0, 60_000),
    payment_history: Array.from({ length: 4 }, () => dec(r, 0, 1)),
    bureau: BUREAUS[int(r, 0, BUREAUS.length - 1)] ?? 'experian',
    has_bankruptcy: r() < 0.03,
    model_version: `ncr-v${int(r, 1, 4)}.${int(r, 0, 9)}`,
  };
}

export interface SeedResult {
  records: number;
  ms: number;
}

/** Writes per chunk: issued together, so a store with group commit makes each one transaction. */
const SEED_CHUNK = 5_000;

type StoreModule = typeof import('../src/store/sqlite/index.js');

/**
 * Seeds the data set straight through `SqliteStore` (the same class the service uses, so the
 * layout is whatever the store defines), loaded from `storeModule`: the built file when the
 * build worked (as the service runs), else the source. Writes are issued in chunks of 5,000
 * without waiting for each other: the store commits writes of the same event-loop turn in one
 * transaction, so each chunk is one transaction. `synchronous = NORMAL` is for seeding only.
 */
export async function seedSqlite(path: string, set: DataSet, storeModule: string, onProgress?: (records: number) => void): Promise<SeedResult> {
  const { SqliteStore } = (await import(storeModule)) as StoreModule;
  // The store unrefs its writer thread; keep the event loop alive while writes are pending.
  const keepAlive = setInterval(() => undefined, 1_000);
  const store = await SqliteStore.open({ path, entityTables: ENTITY_TABLES, synchronous: 'normal' }).catch((err: unknown) => {
    clearInterval(keepAlive);
    throw err;
  });
  const r = prng(42);
  const t0 = performance.now();
  const now = new Date().toISOString();
  try {
    let chunk: WriteRecordInput[] = [];
    let written = 0;
    const flush = async (): Promise<void> => {
      const writes = chunk;
      chunk = [];
      await Promise.all(writes.map((w) => store.writeRecord(w)));
      written += writes.length;
      onProgress?.(written);
    };
    for (let i = 0; i < set.entities; i++) {
      const entity = entityValue(i);
      chunk.push({ key: { entityType: ENTITY_TYPE, entityValue: entity, category: D0 }, data: d0Features(r), computeId: `seed-d0-${i % 97}`, now });
      if (i < set.dual) {
        chunk.push({ key: { entityType: ENTITY_TYPE, entityValue: entity, category: NCR }, data: ncrFeatures(r), computeId: `seed-ncr-${i % 89}`, now });
      }
      if (chunk.length >= SEED_CHUNK) await flush();
    }
    await flush();
  } finally {
    await store.close();
    clearInterval(keepAlive);
  }
  return { records: set.records, ms: performance.now() - t0 };
}

// ------------------------------------------------------------------ request bodies

/** Body of `POST /api/v1/items`; `features` is pre-serialized JSON. */
export function writeBody(entity: string, category: string, featuresJson: string, computeId: string): string {
  return (
    '{"meta":{"source":"prediction_service","compute_id":"' +
    computeId +
    '"},"data":{"entity_type":"bright_uid","entity_value":"' +
    entity +
    '","category":"' +
    category +
    '","features":' +
    featuresJson +
    '}}'
  );
}

/** Body of `POST /api/v1/get/items`: all of d0 plus two named ncr features. */
export function multiReadBody(entity: string): string {
  return (
    '{"meta":{"source":"bench"},"data":{"entity_type":"bright_uid","entity_value":"' +
    entity +
    '","feature_list":["d0_unauth_features:*","ncr_unauth_features:credit_score","ncr_unauth_features:ncr_score"]}}'
  );
}

/**
 * What a batch read selects per entity. `one`: the single read's record (`d0_unauth_features:*`,
 * one record per entity, any entity), the like-for-like comparison with the single read. `two`:
 * the multi-read's selection (all of d0 and two ncr features of a two-category entity: two
 * records per entity), what a multi-read costs in a batch.
 */
export type BatchSelection = 'one' | 'two';

const BATCH_FEATURE_LISTS: Record<BatchSelection, string> = {
  one: '["d0_unauth_features:*"]',
  two: '["d0_unauth_features:*","ncr_unauth_features:credit_score","ncr_unauth_features:ncr_score"]',
};

/** A batch read of `entities` with `selection`'s feature list (the multi-read's by default). */
export function batchReadBody(entities: readonly string[], selection: BatchSelection = 'two'): string {
  return (
    '{"meta":{"source":"bench"},"data":{"entity_type":"bright_uid","entity_values":' +
    JSON.stringify(entities) +
    ',"feature_list":' +
    BATCH_FEATURE_LISTS[selection] +
    '}}'
  );
}

export function singleReadPath(entity: string, category = D0): string {
  return `/api/v1/get/item/${entity}/${category}`;
}

/** Pre-serialized feature maps for the write scenario, half of each category. */
export function featurePool(size: number, seed: number): { category: string; json: string }[] {
  const r = prng(seed);
  return Array.from({ length: size }, (_, i) =>
    i % 2 === 0 ? { category: D0, json: JSON.stringify(d0Features(r)) } : { category: NCR, json: JSON.stringify(ncrFeatures(r)) },
  );
}

/**
 * Seeds `set` through the HTTP API (`POST /api/v1/items`) with `concurrency` requests in
 * flight. Bounded by count and by `timeoutMs`. Resolves with the number of non-200 answers.
 */
export async function seedViaApi(
  baseUrl: string,
  set: DataSet,
  concurrency: number,
  timeoutMs: number,
): Promise<{ ok: number; failed: number; ms: number; firstError?: string }> {
  const r = prng(7);
  const jobs: { entity: string; category: string; json: string }[] = [];
  for (let i = 0; i < set.entities; i++) {
    jobs.push({ entity: entityValue(i), category: D0, json: JSON.stringify(d0Features(r)) });
    if (i < set.dual) jobs.push({ entity: entityValue(i), category: NCR, json: JSON.stringify(ncrFeatures(r)) });
  }
  const deadline = Date.now() + timeoutMs;
  const t0 = performance.now();
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < jobs.length && Date.now() < deadline) {
      const job = jobs[next++];
      if (job === undefined) break;
      try {
        const res = await fetch(`${baseUrl}/api/v1/items`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: writeBody(job.entity, job.category, job.json, 'bench-seed'),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (res.status === 200) ok++;
        else {
          failed++;
          firstError ??= `HTTP ${res.status}: ${text.slice(0, 300)}`;
        }
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  failed += jobs.length - ok - failed; // not attempted before the deadline
  return { ok, failed, ms: performance.now() - t0, ...(firstError === undefined ? {} : { firstError }) };
}
