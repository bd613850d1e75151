import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeOnEveryBackend } from '../support/live-service.js';

/**
 * `GET /api/v1/features/by-category/{category}` on every backend: every record of the category
 * and entity type exactly once across pages, each as a read returns it; others left out; the
 * query checked like a read.
 */
const D0 = 'd0_unauth_features';
const NCR = 'ncr_unauth_features';

describeOnEveryBackend('by-category listing', {}, (live) => {
  const write = async (entityType: string, entityValue: string, category: string) => {
    const res = await live.http.post('/api/v1/items', {
      meta: { source: 'prediction_service', compute_id: 'job-1' },
      data: { entity_type: entityType, entity_value: entityValue, category, features: { v: entityValue } },
    });
    assert.equal(res.status, 200, res.text);
  };

  test('pages through every record of the category once, each as a read returns it', async () => {
    const values = ['u-3', 'u-1', 'u-5', 'u-2', 'u-4'];
    for (const v of values) await write('bright_uid', v, D0);
    await write('bright_uid', 'u-1', NCR);
    await write('account_pid', 'a-1', D0);

    const seen: unknown[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `entity_type=bright_uid&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
      const res = await live.http.get(`/api/v1/features/by-category/${D0}?${query}`);
      assert.equal(res.status, 200, res.text);
      const body = res.json as { entity_type: string; category: string; records: unknown[]; next_cursor: string | null };
      assert.equal(body.entity_type, 'bright_uid');
      assert.equal(body.category, D0);
      assert.ok(body.records.length <= 2, 'body.records.length <= 2');
      seen.push(...body.records);
      cursor = body.next_cursor;
      assert.ok(++pages < 50, 'the listing ends');
    } while (cursor !== null);

    const byValue = new Map(seen.map((r) => [(r as { bright_uid: string }).bright_uid, r]));
    assert.equal(seen.length, 5);
    assert.deepEqual([...byValue.keys()].sort(), [...values].sort());
    for (const v of values) {
      const read = await live.http.get(`/api/v1/get/item/${v}/${D0}?entity_type=bright_uid`);
      assert.deepEqual(byValue.get(v), read.json);
    }

    const other = await live.http.get(`/api/v1/features/by-category/${D0}?entity_type=account_pid`);
    assert.deepEqual((other.json as { records: { account_pid: string }[] }).records.map((r) => r.account_pid), ['a-1']);
  });

  test('a category with no records: an empty last page', async () => {
    const res = await live.http.get(`/api/v1/features/by-category/${NCR}?entity_type=account_pid`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { entity_type: 'account_pid', category: NCR, records: [], next_cursor: null });
  });

  test('checked like a read: 400 for a category or entity type, 422 for limit and cursor', async () => {
    const notAllowed = await live.http.get('/api/v1/features/by-category/nope');
    assert.equal(notAllowed.status, 400);
    assert.equal((notAllowed.json as { code: string }).code, 'CATEGORY_NOT_ALLOWED');
    const badType = await live.http.get(`/api/v1/features/by-category/${D0}?entity_type=nope`);
    assert.equal(badType.status, 400);
    assert.equal((badType.json as { code: string }).code, 'INVALID_ENTITY_TYPE');
    for (const query of ['limit=0', 'limit=1001', 'cursor=%21%21', `cursor=${Buffer.from('["account_pid","a","b"]').toString('base64url')}`]) {
      const res = await live.http.get(`/api/v1/features/by-category/${D0}?${query}`);
      assert.equal(res.status, 422, query);
      assert.equal((res.json as { code: string }).code, 'VALIDATION_FAILED');
    }
  });
});
