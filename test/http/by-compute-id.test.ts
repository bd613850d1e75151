import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeOnEveryBackend } from '../support/live-service.js';
import type { HttpResult } from '../support/service.js';

const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
let counter = 0;
const uid = (prefix: string): string => `${prefix}-${process.pid}-${Date.now()}-${++counter}`;
const enc = encodeURIComponent;

interface Page {
  compute_id: string;
  records: { entity_type: string; entity_value: string; category: string; updated_at: string }[];
  next_cursor: string | null;
}

function body(entityValue: string, computeId: string | null, entityType = 'bright_uid', category = CAT) {
  return { meta: { source: 'prediction_service', compute_id: computeId }, data: { entity_type: entityType, entity_value: entityValue, category, features: { a: 1 } } };
}

/** `GET /api/v1/features/by-compute-id/{compute_id}` on every backend. */
describeOnEveryBackend('records by compute job', {}, (live) => {
  async function write(entityValue: string, computeId: string | null, entityType?: string, category?: string): Promise<void> {
    const res = await live.http.post('/api/v1/items', body(entityValue, computeId, entityType, category));
    assert.equal(res.status, 200, res.text);
  }

  /** Follows next_cursor to the end; every page is checked against the limit. */
  async function allPages(path: string, limit: number): Promise<{ pages: Page[]; records: Page['records'] }> {
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res: HttpResult = await live.http.get(`${path}${sep}limit=${limit}${cursor === null ? '' : `&cursor=${enc(cursor)}`}`);
      assert.equal(res.status, 200, res.text);
      const page = res.json as Page;
      assert.ok(page.records.length <= limit, 'page.records.length <= limit');
      pages.push(page);
      cursor = page.next_cursor;
      assert.ok(pages.length < 50, 'paging ends');
    } while (cursor !== null);
    return { pages, records: pages.flatMap((p) => p.records) };
  }

  test('the records a job wrote, exact body; a record rewritten by another job leaves the list', async () => {
    const job = uid('spark-job');
    const [a, b] = [uid('user'), uid('user')];
    live.time.set('2025-10-16T10:00:00.000Z');
    await write(a, job);
    live.time.set('2025-10-16T10:01:00.000Z');
    await write(b, job);
    const res = await live.http.get(`/api/v1/features/by-compute-id/${enc(job)}`);
    assert.equal(res.status, 200);
    const byValue = (x: Page['records'][number], y: Page['records'][number]) => (x.entity_value < y.entity_value ? -1 : 1);
    const records = [
      { entity_type: 'bright_uid', entity_value: a, category: CAT, updated_at: '2025-10-16T10:00:00.000Z' },
      { entity_type: 'bright_uid', entity_value: b, category: CAT, updated_at: '2025-10-16T10:01:00.000Z' },
    ].sort(byValue);
    // Within a category SQLite orders by entity value, DynamoDB by its index's own order.
    if (live.backend.type === 'sqlite') assert.equal(res.text, JSON.stringify({ compute_id: job, records, next_cursor: null }));
    const page = res.json as Page;
    assert.deepEqual({ ...page, records: [...page.records].sort(byValue) }, { compute_id: job, records, next_cursor: null });
    await write(a, uid('later-job'));
    await write(b, null);
    assert.equal((await live.http.get(`/api/v1/features/by-compute-id/${enc(job)}`)).text, JSON.stringify({ compute_id: job, records: [], next_cursor: null }));
  });

  test('an unknown job is 200 with no records; ids with spaces, slashes and non-ASCII text work', async () => {
    assert.equal((await live.http.get('/api/v1/features/by-compute-id/never-ran')).text, '{"compute_id":"never-ran","records":[],"next_cursor":null}');
    const job = `job / ü ${uid('x')}`;
    const id = uid('user');
    await write(id, job);
    const page = (await live.http.get(`/api/v1/features/by-compute-id/${enc(job)}`)).json as Page;
    assert.equal(page.compute_id, job);
    assert.deepEqual(page.records.map((r) => r.entity_value), [id]);
  });

  test('pagination across several pages, entity types and categories: every record exactly once, in a stable order', async () => {
    const job = uid('paged');
    const expected: string[] = [];
    for (let i = 0; i < 11; i++) {
      const entityType = i % 4 === 0 ? 'account_pid' : 'bright_uid';
      const category = i % 3 === 0 ? CAT2 : CAT;
      const id = uid('user');
      await write(id, job, entityType, category);
      expected.push(`${entityType}/${category}/${id}`);
    }
    await write(uid('user'), uid('other-job'));
    const key = (r: Page['records'][number]) => `${r.entity_type}/${r.category}/${r.entity_value}`;
    const whole = (await live.http.get(`/api/v1/features/by-compute-id/${enc(job)}?limit=1000`)).json as Page;
    assert.equal(whole.next_cursor, null);
    assert.deepEqual(whole.records.map(key).sort(), [...expected].sort());
    // Entity types in configuration order, then categories.
    const order = whole.records.map((r) => `${r.entity_type === 'bright_uid' ? 0 : 1}/${r.category}`);
    assert.deepEqual(order, [...order].sort());
    for (const limit of [1, 2, 3, 4, 10]) {
      const { pages, records } = await allPages(`/api/v1/features/by-compute-id/${enc(job)}`, limit);
      assert.deepEqual(records.map(key), whole.records.map(key), `limit ${limit}: the same records in the same order`);
      assert.ok(pages.length >= Math.ceil(expected.length / limit), 'pages.length >= Math.ceil(expected.length / limit)');
      assert.ok(pages.length <= Math.ceil(expected.length / limit) + 1, 'at most one short page at an entity type boundary');
    }
    const filtered = await allPages(`/api/v1/features/by-compute-id/${enc(job)}?entity_type=account_pid&category=${CAT2}`, 1);
    assert.deepEqual(filtered.records.map(key).sort(), expected.filter((k) => k.startsWith(`account_pid/${CAT2}/`)).sort());
    const byCategory = await allPages(`/api/v1/features/by-compute-id/${enc(job)}?category=${CAT}`, 2);
    assert.deepEqual(byCategory.records.map(key).sort(), expected.filter((k) => k.includes(`/${CAT}/`)).sort());
  });

  test('limit defaults to 100', async () => {
    const job = uid('many');
    const ids = Array.from({ length: 101 }, () => uid('u'));
    for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((id) => write(id, job)));
    const first = (await live.http.get(`/api/v1/features/by-compute-id/${enc(job)}`)).json as Page;
    assert.equal(first.records.length, 100);
    assert.notEqual(first.next_cursor, null);
    const rest = (await live.http.get(`/api/v1/features/by-compute-id/${enc(job)}?cursor=${enc(first.next_cursor ?? '')}`)).json as Page;
    assert.equal(rest.records.length, 1);
    assert.equal(rest.next_cursor, null);
    assert.deepEqual([...first.records, ...rest.records].map((r) => r.entity_value).sort(), [...ids].sort());
  });

  test('400 for a category not on the allow-list or an unknown entity type; 422 for a bad limit or cursor', async () => {
    const category = await live.http.get('/api/v1/features/by-compute-id/j?category=other');
    assert.equal(category.status, 400);
    assert.equal((category.json as { code: string }).code, 'CATEGORY_NOT_ALLOWED');
    const type = await live.http.get('/api/v1/features/by-compute-id/j?entity_type=planet');
    assert.equal(type.text, JSON.stringify({ detail: 'Invalid entity_type: planet', code: 'INVALID_ENTITY_TYPE' }));
    for (const limit of ['0', '1001', 'ten', '-1', '1.5', '']) {
      const res = await live.http.get(`/api/v1/features/by-compute-id/j?limit=${limit}`);
      assert.equal(res.status, 422, limit);
      assert.deepEqual((res.json as { detail: { loc: string[]; msg: string }[] }).detail.map((d) => [d.loc, d.msg]), [
        [['query', 'limit'], 'Value error, limit must be an integer from 1 to 1000'],
      ]);
    }
    for (const cursor of ['garbage!', 'bm90IGpzb24', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["nope"]').toString('base64url')]) {
      const res = await live.http.get(`/api/v1/features/by-compute-id/j?cursor=${enc(cursor)}`);
      assert.equal(res.status, 422, cursor);
      assert.deepEqual((res.json as { detail: { loc: string[] }[] }).detail.map((d) => d.loc), [['query', 'cursor']], cursor);
    }
    // A cursor of an entity type outside the query's.
    const job = uid('c');
    await write(uid('u'), job);
    await write(uid('u'), job);
    const page = (await live.http.get(`/api/v1/features/by-compute-id/${enc(job)}?limit=1`)).json as Page;
    const wrong = await live.http.get(`/api/v1/features/by-compute-id/${enc(job)}?entity_type=account_pid&cursor=${enc(page.next_cursor ?? '')}`);
    assert.equal(wrong.status, 422);
    assert.equal(((await live.http.get(`/api/v1/features/by-compute-id/${'x'.repeat(257)}`)).json as { detail: { type: string }[] }).detail[0]?.type, 'string_too_long');
  });
});
