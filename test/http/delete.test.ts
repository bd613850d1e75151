import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OutboxEvent } from '../../src/model.js';
import type { BackendInstance, TestBackend } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { startOutboxService, type OutboxService } from '../support/outbox-service.js';
import { client, manualClock, startService, type ManualClock } from '../support/service.js';
import { assertIssues, serviceForSuite } from '../support/suite-service.js';

const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
const ALLOWED = 'd0_unauth_features, ncr_unauth_features';
const WRITER = 'prediction_service';
const enc = encodeURIComponent;

let counter = 0;
function uid(): string {
  counter += 1;
  return `del-${process.pid}-${Date.now()}-${counter}`;
}

function writeBody(entityValue: string, features: Record<string, unknown>, category = CAT, entityType = 'bright_uid') {
  return { meta: { source: WRITER, compute_id: 'job-1' }, data: { entity_type: entityType, entity_value: entityValue, category, features } };
}

function categoryPath(entityValue: string, category = CAT, entityType = 'bright_uid', source: string | null = WRITER): string {
  return `/api/v1/items/${entityType}/${enc(entityValue)}/${category}${source === null ? '' : `?source=${enc(source)}`}`;
}

function entityPath(entityValue: string, entityType = 'bright_uid', source: string | null = WRITER): string {
  return `/api/v1/items/${entityType}/${enc(entityValue)}${source === null ? '' : `?source=${enc(source)}`}`;
}

/** Delete and erasure over HTTP, on every backend. */
function deleteSuite(backend: TestBackend): void {
  describe(`HTTP delete and erasure: ${backend.name}`, () => {
    const { http, time } = serviceForSuite(backend);

    const read = (entityValue: string, category = CAT, entityType = 'bright_uid') =>
      http.get(`/api/v1/get/item/${enc(entityValue)}/${category}?entity_type=${entityType}`);
    const del = (path: string) => http.request('DELETE', path);

    test('deleting a category answers 200 with the exact body; the record is gone, other records stay; again is 404', async () => {
      const id = uid();
      await http.post('/api/v1/items', writeBody(id, { a: 1 }));
      await http.post('/api/v1/items', writeBody(id, { b: 2 }, CAT2));
      await http.post('/api/v1/items', writeBody(id, { c: 3 }, CAT, 'account_pid'));
      const res = await del(categoryPath(id));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, JSON.stringify({ message: 'Category deleted', entity_type: 'bright_uid', entity_value: id, category: CAT }));
      assert.equal((await read(id)).status, 404);
      assert.equal((await read(id, CAT2)).status, 200);
      assert.equal((await read(id, CAT, 'account_pid')).status, 200);
      const again = await del(categoryPath(id));
      assert.equal(again.status, 404);
      assert.equal(again.text, JSON.stringify({ detail: `Item not found: ${id}/${CAT}`, code: 'NOT_FOUND' }));
    });

    test('erasure deletes every category of the entity, lists them in allow-list order; again is 200 with []', async () => {
      const id = uid();
      await http.post('/api/v1/items', writeBody(id, { b: 2 }, CAT2));
      await http.post('/api/v1/items', writeBody(id, { a: 1 }, CAT));
      await http.post('/api/v1/items', writeBody(id, { c: 3 }, CAT, 'account_pid'));
      const res = await del(entityPath(id));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, JSON.stringify({ message: 'Entity deleted', entity_type: 'bright_uid', entity_value: id, deleted_categories: [CAT, CAT2] }));
      assert.equal((await read(id)).status, 404);
      assert.equal((await read(id, CAT2)).status, 404);
      assert.equal((await read(id, CAT, 'account_pid')).status, 200, 'another entity type is another entity');
      const again = await del(entityPath(id));
      assert.equal(again.status, 200);
      assert.equal(again.text, JSON.stringify({ message: 'Entity deleted', entity_type: 'bright_uid', entity_value: id, deleted_categories: [] }));
      const partial = uid();
      await http.post('/api/v1/items', writeBody(partial, { b: 2 }, CAT2, 'account_pid'));
      assert.deepEqual((await del(entityPath(partial, 'account_pid'))).json, {
        message: 'Entity deleted',
        entity_type: 'account_pid',
        entity_value: partial,
        deleted_categories: [CAT2],
      });
    });

    test('a write after a delete creates a new record with a new created_at', async () => {
      const id = uid();
      time.set('2025-10-16T10:00:00.000Z');
      await http.post('/api/v1/items', writeBody(id, { a: 1 }));
      time.set('2025-10-16T10:05:00.000Z');
      assert.equal((await del(categoryPath(id))).status, 200);
      time.set('2025-10-16T10:10:00.000Z');
      await http.post('/api/v1/items', writeBody(id, { z: 9 }));
      assert.deepEqual((await read(id)).json, {
        bright_uid: id,
        category: CAT,
        features: { data: { z: 9 }, meta: { created_at: '2025-10-16T10:10:00.000Z', updated_at: '2025-10-16T10:10:00.000Z', compute_id: 'job-1' } },
      });
    });

    test('entity values with spaces, %, +, :, / and non-ASCII text are deleted by their encoded path', async () => {
      const id = `${uid()} a/b:c+d%e ü`;
      await http.post('/api/v1/items', writeBody(id, { a: 1 }));
      await http.post('/api/v1/items', writeBody(id, { b: 1 }, CAT2));
      assert.equal((await del(categoryPath(id))).status, 200);
      assert.deepEqual((await del(entityPath(id))).json, { message: 'Entity deleted', entity_type: 'bright_uid', entity_value: id, deleted_categories: [CAT2] });
    });

    test('a category not on the allow-list and an unknown entity type are 400, as on reads; nothing is deleted', async () => {
      const id = uid();
      await http.post('/api/v1/items', writeBody(id, { a: 1 }));
      const refused = await del(categoryPath(id, 'secret'));
      assert.equal(refused.status, 400);
      assert.equal(
        refused.text,
        JSON.stringify({ detail: `Category 'secret' is not allowed for delete operations. Allowed categories: ${ALLOWED}`, code: 'CATEGORY_NOT_ALLOWED' }),
      );
      for (const path of [categoryPath(id, CAT, 'planet'), entityPath(id, 'planet')]) {
        const res = await del(path);
        assert.equal(res.status, 400);
        assert.equal(res.text, JSON.stringify({ detail: 'Invalid entity_type: planet', code: 'INVALID_ENTITY_TYPE' }));
      }
      assert.equal((await read(id)).status, 200);
    });

    test('deleting takes the write right: source missing or not a writer is a 422 at ["query","source"]; nothing is deleted', async () => {
      const id = uid();
      await http.post('/api/v1/items', writeBody(id, { a: 1 }));
      for (const path of [categoryPath(id, CAT, 'bright_uid', null), entityPath(id, 'bright_uid', null)]) {
        assertIssues(await del(path), [{ type: 'missing', loc: ['query', 'source'], msg: 'Field required' }]);
      }
      const writeRefused = await http.post('/api/v1/items', { ...writeBody(id, { a: 2 }), meta: { source: 'intruder' } });
      const msg = (writeRefused.json as { detail: { msg: string }[] }).detail[0]?.msg;
      assert.match(String(msg), /source 'intruder' is not allowed to write/);
      for (const path of [categoryPath(id, CAT, 'bright_uid', 'intruder'), entityPath(id, 'bright_uid', 'intruder')]) {
        assertIssues(await del(path), [{ type: 'value_error', loc: ['query', 'source'], msg: String(msg) }]);
      }
      // The write right comes before the other checks, so a refused caller learns nothing about them.
      assertIssues(await del(categoryPath(id, 'secret', 'planet', 'intruder')), [{ type: 'value_error', loc: ['query', 'source'] }]);
      const kept = await read(id);
      assert.equal(kept.status, 200);
      assert.deepEqual((kept.json as { features: { data: unknown } }).features.data, { a: 1 });
    });

    test('the paths are in OpenAPI; other methods are 405; deletes are counted by category', async () => {
      const doc = (await http.get('/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
      assert.ok(doc.paths['/api/v1/items/{entity_type}/{entity_value}/{category}']?.delete, `doc.paths['/api/v1/items/{entity_type}/{entity_value}/{category}']?.delete`);
      assert.ok(doc.paths['/api/v1/items/{entity_type}/{entity_value}']?.delete, `doc.paths['/api/v1/items/{entity_type}/{entity_value}']?.delete`);
      const wrong = await http.get(`/api/v1/items/bright_uid/u/${CAT}`);
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.get('allow'), 'DELETE');
      const id = uid();
      await http.post('/api/v1/items', writeBody(id, { a: 1 }, CAT2, 'account_pid'));
      await del(categoryPath(id, CAT2, 'account_pid'));
      const metrics = await http.get('/metrics');
      assert.match(metrics.text, /feature_store_deletes_total\{entity_type="account_pid",category="ncr_unauth_features"\} [1-9]/);
    });
  });

  describe(`HTTP delete when the store is unreachable: ${backend.name}`, () => {
    test('both deletes are 503 with Retry-After', async () => {
      const instance = await backend.setup();
      const runtime = await startService(instance);
      try {
        await runtime.store.close();
        const http = client(runtime.url);
        for (const path of [categoryPath('u'), entityPath('u')]) {
          const res = await http.request('DELETE', path);
          assert.equal(res.status, 503, res.text);
          assert.ok(res.headers.get('retry-after'), `res.headers.get('retry-after')`);
        }
      } finally {
        await runtime.close();
        await instance.teardown();
      }
    });
  });

  if (backend.events) {
    describe(`HTTP delete records its event: ${backend.name}`, () => {
      let instance: BackendInstance;
      let service: OutboxService;
      let http: ReturnType<typeof client>;
      const time = manualClock();

      before(async () => {
        instance = await backend.setup();
        service = await startOutboxService(instance, time.clock);
        http = client(service.url);
      });
      after(async () => {
        await service?.close();
        await instance?.teardown();
      });

      test('each deleted record yields one feature_deleted event with the deleted feature names', async () => {
        const id = uid();
        time.set('2025-10-16T10:00:00.000Z');
        await http.post('/api/v1/items', writeBody(id, { b: 1, a: 2 }));
        await http.post('/api/v1/items', writeBody(id, { c: 3 }, CAT2));
        time.set('2025-10-16T10:05:00.000Z');
        assert.equal((await http.request('DELETE', categoryPath(id))).status, 200);
        assert.equal((await http.request('DELETE', entityPath(id))).status, 200);
        assert.equal((await http.request('DELETE', entityPath(id))).status, 200, 'nothing left: no event');
        assert.equal((await http.request('DELETE', categoryPath(id))).status, 404, 'nothing left: no event');
        const events = (await service.takeEvents(`bright_uid:${id}`)).map((e) => {
          const { event_id: eventId, ...rest } = e.event;
          assert.equal(eventId, e.id);
          return rest;
        });
        const common = { entity_type: 'bright_uid', entity_id: id, resource_type: 'feature', compute_id: null, event_time: null };
        assert.deepEqual(events, [
          { event_type: 'feature_available', timestamp: '2025-10-16T10:00:00.000Z', ...common, resource_name: CAT, compute_id: 'job-1', features: ['b', 'a'] },
          { event_type: 'feature_available', timestamp: '2025-10-16T10:00:00.000Z', ...common, resource_name: CAT2, compute_id: 'job-1', features: ['c'] },
          { event_type: 'feature_deleted', timestamp: '2025-10-16T10:05:00.000Z', ...common, resource_name: CAT, features: ['b', 'a'] },
          { event_type: 'feature_deleted', timestamp: '2025-10-16T10:05:00.000Z', ...common, resource_name: CAT2, features: ['c'] },
        ]);
      });

      test('a delete racing a write: both complete, the final state is one of the two orders and the events match it', async (t) => {
        const orders = await raceDeleteAndWrite(http, time, (id) => service.takeEvents(`bright_uid:${id}`));
        t.diagnostic(`orders seen: ${[...orders].join('; ')}`);
      });
    });
  } else {
    describe(`HTTP delete racing a write: ${backend.name}`, () => {
      test('both complete and the final state is one of the two orders (no events: this backend records none)', async (t) => {
        const instance = await backend.setup();
        const time = manualClock();
        const runtime = await startService(instance, { clock: time.clock });
        try {
          const orders = await raceDeleteAndWrite(client(runtime.url), time);
          t.diagnostic(`orders seen: ${[...orders].join('; ')}`);
        } finally {
          await runtime.close();
          await instance.teardown();
        }
      });
    });
  }
}

/**
 * Rounds of a write racing a delete of the same record (which exists before). Either order is
 * fine; the final state and, when `takeEvents` is given, the recorded events must be that order's.
 */
async function raceDeleteAndWrite(
  http: ReturnType<typeof client>,
  time: ManualClock,
  takeEvents?: (entityValue: string) => Promise<OutboxEvent[]>,
): Promise<Set<string>> {
  const orders = new Set<string>();
  for (let round = 0; round < 8; round++) {
    const id = uid();
    time.set('2025-10-16T10:00:00.000Z');
    await http.post('/api/v1/items', writeBody(id, { old: 1 }));
    time.set('2025-10-16T10:05:00.000Z');
    const [written, deleted] = await Promise.all([http.post('/api/v1/items', writeBody(id, { fresh: 2 })), http.request('DELETE', categoryPath(id))]);
    assert.equal(written.status, 200, written.text);
    assert.equal(deleted.status, 200, deleted.text);
    const final = await http.get(`/api/v1/get/item/${enc(id)}/${CAT}`);
    const events = takeEvents === undefined ? undefined : await takeEvents(id);
    // After the first write's event: the two changes of the race, in the order they were applied.
    const changes = events?.slice(1).map((e) => `${e.event.event_type}:${e.event.features.join(',')}`);
    if (final.status === 404) {
      orders.add('write, delete');
      if (changes !== undefined) assert.deepEqual(changes, ['feature_available:fresh', 'feature_deleted:fresh']);
    } else {
      // The delete removed the first record; the write then created a new one.
      orders.add('delete, write');
      assert.equal(final.status, 200, final.text);
      assert.deepEqual((final.json as { features: unknown }).features, {
        data: { fresh: 2 },
        meta: { created_at: '2025-10-16T10:05:00.000Z', updated_at: '2025-10-16T10:05:00.000Z', compute_id: 'job-1' },
      });
      if (changes !== undefined) assert.deepEqual(changes, ['feature_deleted:old', 'feature_available:fresh']);
    }
    if (events !== undefined) assert.equal(events[0]?.event.features.join(','), 'old');
  }
  return orders;
}

for (const backend of BACKENDS) deleteSuite(backend);
