import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestBackend } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { startOutboxService, type OutboxService } from '../support/outbox-service.js';
import { client, manualClock } from '../support/service.js';
import { assertIssues, serviceForSuite } from '../support/suite-service.js';

const CAT = 'd0_unauth_features';
const ALLOWED = 'd0_unauth_features, ncr_unauth_features';
const T0 = '2025-10-16T10:00:00.000Z';
const T1 = '2025-10-16T10:05:00.000Z';
const enc = encodeURIComponent;

let counter = 0;
function uid(): string {
  counter += 1;
  return `merge-${process.pid}-${Date.now()}-${counter}`;
}

function body(entityValue: string, features: unknown, extra: { compute_id?: string | null; source?: string; category?: string; entity_type?: string } = {}) {
  const meta: Record<string, unknown> = { source: extra.source ?? 'prediction_service' };
  if (extra.compute_id !== undefined) meta.compute_id = extra.compute_id;
  return { meta, data: { entity_type: extra.entity_type ?? 'bright_uid', entity_value: entityValue, category: extra.category ?? CAT, features } };
}

function merged(entityValue: string, featureCount: number): string {
  return JSON.stringify({ message: 'Category merged successfully (partial update)', entity_value: entityValue, entity_type: 'bright_uid', category: CAT, feature_count: featureCount });
}

/** The merge write (`PATCH /api/v1/items`) over HTTP, on every backend. */
function mergeSuite(backend: TestBackend): void {
  describe(`HTTP merge write: ${backend.name}`, () => {
    const { http, time } = serviceForSuite(backend);
    const patch = (b: unknown) => http.request('PATCH', '/api/v1/items', b);
    const read = async (entityValue: string) => {
      const res = await http.get(`/api/v1/get/item/${enc(entityValue)}/${CAT}`);
      return res.status === 200 ? (res.json as { features: { data: unknown; meta: unknown } }).features : res.status;
    };

    test('a merge into a missing record creates it; the answer is exact', async () => {
      const id = uid();
      time.set(T0);
      const res = await patch(body(id, { credit_score: 750, ratio: 0.35, gone: null }, { compute_id: 'job-m' }));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, merged(id, 2));
      assert.deepEqual(await read(id), { data: { credit_score: 750, ratio: 0.35 }, meta: { created_at: T0, updated_at: T0, compute_id: 'job-m' } });
    });

    test('a merge sets the given features, null removes one, others are kept; created_at kept, updated_at moved, compute_id this write\'s', async () => {
      const id = uid();
      time.set(T0);
      await http.post('/api/v1/items', body(id, { a: 1, b: 2, nested: { x: 1, y: 2 }, list: [1, 2] }, { compute_id: 'job-1' }));
      time.set(T1);
      const res = await patch(body(id, { b: 3, nested: { z: 0.1 }, a: null, big: 9007199254740991, text: 'ü' }));
      assert.equal(res.text, merged(id, 5));
      assert.deepEqual(await read(id), {
        data: { b: 3, nested: { z: 0.1 }, list: [1, 2], big: 9007199254740991, text: 'ü' },
        meta: { created_at: T0, updated_at: T1, compute_id: null },
      });
      const emptied = await patch(body(id, { b: null, nested: null, list: null, big: null, text: null }));
      assert.equal(emptied.text, merged(id, 0));
      assert.deepEqual(await read(id), { data: {}, meta: { created_at: T0, updated_at: T1, compute_id: null } });
    });

    test('merge racing merge over HTTP: concurrent merges of different features all survive', async () => {
      const id = uid();
      await http.post('/api/v1/items', body(id, { base: 0 }));
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => patch(body(id, { [`f${i}`]: i }))));
      for (const r of results) assert.equal(r.status, 200, r.text);
      const data = ((await read(id)) as { data: Record<string, number> }).data;
      assert.deepEqual(data, Object.fromEntries([['base', 0], ...Array.from({ length: 10 }, (_, i) => [`f${i}`, i])]));
    });

    test('validated like a write: source, entity type, values, allow-list; nothing stored', async () => {
      const id = uid();
      assertIssues(await patch(body(id, { a: 1 }, { source: 'intruder' })), [{ type: 'value_error', loc: ['body', 'meta', 'source'] }]);
      assertIssues(await patch(body(id, { a: 1 }, { entity_type: 'planet' })), [{ type: 'literal_error', loc: ['body', 'data', 'entity_type'] }]);
      assertIssues(await patch(body(id, {})), [{ type: 'too_short', loc: ['body', 'data', 'features'] }]);
      assertIssues(await patch(body(id, { big: 2 ** 60 })), [{ type: 'int_unsafe', loc: ['body', 'data', 'features', 'big'] }]);
      assertIssues(await patch({ meta: { source: 'intruder' }, data: {} }), [
        { type: 'value_error', loc: ['body', 'meta', 'source'] },
        { type: 'missing', loc: ['body', 'data', 'entity_type'] },
        { type: 'missing', loc: ['body', 'data', 'entity_value'] },
        { type: 'missing', loc: ['body', 'data', 'category'] },
        { type: 'missing', loc: ['body', 'data', 'features'] },
      ]);
      const refused = await patch(body(id, { a: 1 }, { category: 'secret' }));
      assert.equal(refused.status, 400);
      assert.equal(refused.text, JSON.stringify({ detail: `Category 'secret' is not allowed for write operations. Allowed categories: ${ALLOWED}`, code: 'CATEGORY_NOT_ALLOWED' }));
      assert.equal(await read(id), 404);
    });

    test('documented in OpenAPI beside the write', async () => {
      const doc = (await http.get('/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
      assert.ok(doc.paths['/api/v1/items']?.patch, `doc.paths['/api/v1/items']?.patch`);
      assert.ok(doc.paths['/api/v1/items']?.post, `doc.paths['/api/v1/items']?.post`);
    });
  });

  if (!backend.events) return;
  describe(`HTTP merge write records its event: ${backend.name}`, () => {
    let service: OutboxService;
    let teardown: () => Promise<void>;
    const time = manualClock(T1);

    before(async () => {
      const instance = await backend.setup();
      service = await startOutboxService(instance, time.clock);
      teardown = () => instance.teardown();
    });
    after(async () => {
      await service?.close();
      await teardown?.();
    });

    test('the event lists the features the merge named (set or removed), in request order', async () => {
      const id = uid();
      const http = client(service.url);
      await http.post('/api/v1/items', body(id, { a: 1, b: 2 }));
      assert.equal((await http.request('PATCH', '/api/v1/items', body(id, { c: 3, a: null }, { compute_id: 'job-m' }))).status, 200);
      const events = await service.takeEvents(`bright_uid:${id}`);
      assert.deepEqual(
        events.map((e) => [e.event.event_type, e.event.features, e.event.compute_id, e.event.timestamp, e.event.resource_name]),
        [
          ['feature_available', ['a', 'b'], null, T1, CAT],
          ['feature_available', ['c', 'a'], 'job-m', T1, CAT],
        ],
      );
    });
  });
}

for (const backend of BACKENDS) mergeSuite(backend);
