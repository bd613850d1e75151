import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { BACKENDS } from '../support/backends.js';
import { serviceForSuite } from '../support/suite-service.js';

/**
 * Expiry (`CATEGORY_TTL`) on every backend, with an injected clock: a record is readable until
 * its latest write plus its category's TTL, with `meta.expires_at`, and from that instant on it
 * is not (404, or unavailable in a multi-read) whether or not the store removed it yet.
 * Categories without a TTL answer byte for byte as before.
 */
const TTL_CAT = 'd0_unauth_features';
const PLAIN_CAT = 'ncr_unauth_features';
const T0 = '2025-10-16T10:00:00.000Z';
const HOUR = 3_600_000;

for (const backend of BACKENDS) {
  describe(`expiry (CATEGORY_TTL): ${backend.name}`, () => {
    // A long sweep interval: these tests are about what reads show, not the physical removal.
    const { http, time } = serviceForSuite(backend, { CATEGORY_TTL: `${TTL_CAT}=1h`, TTL_SWEEP_INTERVAL_MS: '86400000' });

    const write = (id: string, category: string, features: Record<string, unknown>) =>
      http.post('/api/v1/items', {
        meta: { source: 'prediction_service', compute_id: 'job-1' },
        data: { entity_type: 'bright_uid', entity_value: id, category, features },
      });
    const read = (id: string, category: string) => http.get(`/api/v1/get/item/${encodeURIComponent(id)}/${category}`);
    const multi = (id: string) =>
      http.post('/api/v1/get/items', {
        meta: { source: 'any' },
        data: { entity_type: 'bright_uid', entity_value: id, feature_list: [`${TTL_CAT}:*`, `${PLAIN_CAT}:*`] },
      });

    test('readable with meta.expires_at until the TTL runs out; 404 from that millisecond on; other categories unchanged', async () => {
      const id = randomUUID();
      time.set(T0);
      assert.equal((await write(id, TTL_CAT, { score: 1 })).status, 200);
      assert.equal((await write(id, PLAIN_CAT, { other: 2 })).status, 200);

      time.advance(HOUR - 1);
      const live = await read(id, TTL_CAT);
      assert.equal(live.status, 200);
      assert.equal(
        live.text,
        `{"bright_uid":${JSON.stringify(id)},"category":"${TTL_CAT}","features":{"data":{"score":1},` +
          `"meta":{"created_at":"${T0}","updated_at":"${T0}","compute_id":"job-1","expires_at":"2025-10-16T11:00:00.000Z"}}}`,
      );
      const byQuery = await http.get(`/api/v1/get/item/${encodeURIComponent(id)}?category=${TTL_CAT}`);
      assert.equal(byQuery.text, live.text);

      time.advance(1);
      const gone = await read(id, TTL_CAT);
      assert.equal(gone.status, 404);
      assert.equal((gone.json as { detail: string }).detail, `Item not found: ${id}/${TTL_CAT}`);
      assert.equal((await http.get(`/api/v1/get/item/${encodeURIComponent(id)}?category=${TTL_CAT}`)).status, 404);
      const plain = await read(id, PLAIN_CAT);
      assert.equal(
        plain.text,
        `{"bright_uid":${JSON.stringify(id)},"category":"${PLAIN_CAT}","features":{"data":{"other":2},` +
          `"meta":{"created_at":"${T0}","updated_at":"${T0}","compute_id":"job-1"}}}`,
        'a category without a TTL never expires and has no expires_at',
      );
    });

    test('a multi-read lists an expired category as unavailable', async () => {
      const id = randomUUID();
      time.set(T0);
      await write(id, TTL_CAT, { score: 1 });
      await write(id, PLAIN_CAT, { other: 2 });
      time.advance(HOUR / 2);
      const before = (await multi(id)).json as { items: Record<string, { features: { meta: Record<string, unknown> } }>; unavailable_feature_categories: string[] };
      assert.deepEqual(Object.keys(before.items), [TTL_CAT, PLAIN_CAT]);
      assert.equal(before.items[TTL_CAT]?.features.meta.expires_at, '2025-10-16T11:00:00.000Z');
      assert.equal(before.items[PLAIN_CAT]?.features.meta.expires_at, undefined);
      assert.deepEqual(before.unavailable_feature_categories, []);
      time.advance(HOUR / 2);
      const after = (await multi(id)).json as { items: Record<string, unknown>; unavailable_feature_categories: string[] };
      assert.deepEqual(Object.keys(after.items), [PLAIN_CAT]);
      assert.deepEqual(after.unavailable_feature_categories, [TTL_CAT]);
    });

    test('a write restarts the TTL from its own time', async () => {
      const id = randomUUID();
      time.set(T0);
      await write(id, TTL_CAT, { score: 1 });
      time.advance(HOUR - 1000);
      await write(id, TTL_CAT, { score: 2 });
      time.advance(HOUR - 1);
      const res = await read(id, TTL_CAT);
      assert.equal(res.status, 200);
      const meta = (res.json as { features: { meta: Record<string, unknown> } }).features.meta;
      assert.equal(meta.expires_at, '2025-10-16T11:59:59.000Z');
      time.advance(1);
      assert.equal((await read(id, TTL_CAT)).status, 404);
      // Written again after it expired: readable again, for a new hour.
      await write(id, TTL_CAT, { score: 3 });
      const again = await read(id, TTL_CAT);
      assert.equal(again.status, 200);
      assert.deepEqual((again.json as { features: { data: unknown } }).features.data, { score: 3 });
    });

    test('a batch read shows meta.expires_at until the TTL runs out, then lists the category as unavailable, per entity', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      type Answer = { results: { items: Record<string, { features: { meta: Record<string, unknown> } }>; unavailable_feature_categories: string[] }[] };
      const batch = async () =>
        (
          await http.post('/api/v1/get/items/batch', {
            meta: { source: 'any' },
            data: { entity_type: 'bright_uid', entity_values: [a, b], feature_list: [`${TTL_CAT}:*`, `${PLAIN_CAT}:*`] },
          })
        ).json as Answer;
      time.set(T0);
      await write(a, TTL_CAT, { x: 1 });
      await write(a, PLAIN_CAT, { y: 1 });
      time.advance(HOUR / 2);
      await write(b, TTL_CAT, { x: 2 });
      time.set(new Date(Date.parse(T0) + HOUR - 1).toISOString());
      const live = await batch();
      assert.equal(live.results[0]?.items[TTL_CAT]?.features.meta.expires_at, '2025-10-16T11:00:00.000Z');
      assert.equal(live.results[0]?.items[PLAIN_CAT]?.features.meta.expires_at, undefined, 'no TTL, no expires_at');
      time.advance(1);
      const later = await batch();
      assert.deepEqual(Object.keys(later.results[0]?.items ?? {}), [PLAIN_CAT]);
      assert.deepEqual(later.results[0]?.unavailable_feature_categories, [TTL_CAT]);
      assert.deepEqual(later.results[1]?.unavailable_feature_categories, [PLAIN_CAT], 'written later: still live');
      assert.equal(later.results[1]?.items[TTL_CAT]?.features.meta.expires_at, '2025-10-16T11:30:00.000Z');
    });

    test('a merge restarts the TTL; a merge into an expired record does not bring its features back', async () => {
      const id = randomUUID();
      const merge = (features: Record<string, unknown>) =>
        http.request('PATCH', '/api/v1/items', {
          meta: { source: 'prediction_service', compute_id: 'job-2' },
          data: { entity_type: 'bright_uid', entity_value: id, category: TTL_CAT, features },
        });
      time.set(T0);
      await write(id, TTL_CAT, { old: 1, kept: 2 });
      time.advance(HOUR / 2);
      assert.equal((await merge({ fresh: 3 })).status, 200);
      time.advance(HOUR - 1); // 1.5 h after the write, just inside the merge's hour
      const live = (await read(id, TTL_CAT)).json as { features: { data: unknown; meta: Record<string, unknown> } };
      assert.deepEqual(live.features.data, { old: 1, kept: 2, fresh: 3 });
      assert.equal(live.features.meta.expires_at, '2025-10-16T11:30:00.000Z');

      time.advance(1); // expired, whether or not the store removed it yet
      const merged = await merge({ kept: 4 });
      assert.equal(merged.status, 200);
      assert.equal((merged.json as { feature_count: number }).feature_count, 1);
      const after = (await read(id, TTL_CAT)).json as { features: { data: unknown } };
      assert.deepEqual(after.features.data, { kept: 4 }, 'only what the merge gave');
    });
  });
}
