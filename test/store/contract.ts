import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FeatureMap, OutboxEvent } from '../../src/model.js';
import type { FeatureStore, WriteCategoryInput } from '../../src/store/feature-store.js';
import { openStore, type BackendInstance, type TestBackend } from '../support/backend.js';
import { eventId, outboxEvent } from '../support/fixtures.js';

const T0 = '2025-10-16T10:00:00.000Z';
const T1 = '2025-10-16T10:05:00.000Z';
const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';

let counter = 0;
/** A fresh entity value per test so tests never see each other's records. */
function uid(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}`;
}

function write(overrides: Partial<WriteCategoryInput> & { entityValue: string }): WriteCategoryInput {
  return {
    entityType: 'bright_uid',
    category: CAT,
    data: { credit_score: 750 },
    computeId: null,
    now: T0,
    ...overrides,
  };
}

function event(entityValue: string, n: number): OutboxEvent {
  return outboxEvent(entityValue, { id: eventId(n), timestamp: T0 });
}

/**
 * The universal storage contract (see src/store/feature-store.ts). Every backend runs this suite
 * unchanged against a real instance of itself.
 */
export function storeContract(backend: TestBackend): void {
  describe(`FeatureStore contract: ${backend.name}`, () => {
    let instance: BackendInstance;
    let store: FeatureStore;

    before(async () => {
      instance = await backend.setup();
      store = await openStore(instance);
    });
    after(async () => {
      await store.close();
      await instance.teardown();
    });

    test('a missing record reads as undefined', async () => {
      assert.equal(await store.getCategory('bright_uid', uid(), CAT), undefined);
    });

    test('a first write creates the record with created_at == updated_at', async () => {
      const id = uid();
      const meta = await store.writeCategory(write({ entityValue: id, computeId: 'job-1', data: { a: 1, b: 'x' } }));
      assert.deepEqual(meta, { created_at: T0, updated_at: T0, compute_id: 'job-1' });
      const record = await store.getCategory('bright_uid', id, CAT);
      assert.deepEqual(record, {
        entityType: 'bright_uid',
        entityValue: id,
        category: CAT,
        data: { a: 1, b: 'x' },
        meta: { created_at: T0, updated_at: T0, compute_id: 'job-1' },
      });
    });

    test('a later write replaces data, keeps created_at, moves updated_at, replaces compute_id', async () => {
      const id = uid();
      await store.writeCategory(write({ entityValue: id, computeId: 'job-1', data: { old: 1, kept: 2 } }));
      const meta = await store.writeCategory(write({ entityValue: id, now: T1, computeId: null, data: { kept: 3, fresh: true } }));
      assert.deepEqual(meta, { created_at: T0, updated_at: T1, compute_id: null });
      const record = await store.getCategory('bright_uid', id, CAT);
      assert.deepEqual(record?.data, { kept: 3, fresh: true });
      assert.deepEqual(record?.meta, { created_at: T0, updated_at: T1, compute_id: null });
    });

    test('entity types are separate keyspaces', async () => {
      const id = uid();
      await store.writeCategory(write({ entityValue: id, data: { who: 'user' } }));
      assert.equal(await store.getCategory('account_pid', id, CAT), undefined);
      await store.writeCategory(write({ entityType: 'account_pid', entityValue: id, data: { who: 'account' } }));
      assert.deepEqual((await store.getCategory('bright_uid', id, CAT))?.data, { who: 'user' });
      assert.deepEqual((await store.getCategory('account_pid', id, CAT))?.data, { who: 'account' });
    });

    test('categories of one entity are separate records', async () => {
      const id = uid();
      await store.writeCategory(write({ entityValue: id, data: { a: 1 } }));
      assert.equal(await store.getCategory('bright_uid', id, CAT2), undefined);
    });

    test('getCategories returns exactly the records that exist', async () => {
      const id = uid();
      await store.writeCategory(write({ entityValue: id, category: CAT, data: { a: 1 } }));
      const one = await store.getCategories('bright_uid', id, [CAT, CAT2]);
      assert.deepEqual(
        one.map((r) => [r.category, r.data]),
        [[CAT, { a: 1 }]],
      );
      await store.writeCategory(write({ entityValue: id, category: CAT2, data: { b: 2 } }));
      const both = await store.getCategories('bright_uid', id, [CAT2, CAT]);
      assert.deepEqual(
        both.map((r) => [r.category, r.data, r.entityValue, r.entityType]).sort(),
        [
          [CAT, { a: 1 }, id, 'bright_uid'],
          [CAT2, { b: 2 }, id, 'bright_uid'],
        ],
      );
      assert.deepEqual(await store.getCategories('bright_uid', uid(), [CAT, CAT2]), []);
      assert.deepEqual(await store.getCategories('bright_uid', id, []), []);
    });

    test('values round-trip exactly: numbers, strings, booleans, null, arrays, nested objects', async () => {
      const id = uid();
      const data: FeatureMap = {
        int: 750,
        ratio: 0.35,
        negative: -12.5,
        tiny: 1e-7,
        max_safe: 9007199254740991,
        min_safe: -9007199254740991,
        zero: 0,
        numeric_string: '750',
        empty_string: '',
        yes: true,
        no: false,
        nothing: null,
        list: [1, 2.5, 'x', null, [0.1, { deep: 3 }]],
        empty_list: [],
        empty_object: {},
        nested: { a: { b: { c: [1, 2, 3] } } },
        unicode: 'héllo – 世界 🚀',
      };
      await store.writeCategory(write({ entityValue: id, data }));
      const record = await store.getCategory('bright_uid', id, CAT);
      assert.deepEqual(record?.data, data);
      assert.equal(JSON.stringify(record?.data), JSON.stringify(data));
    });

    test('entity values may hold spaces, %, +, :, /, non-ASCII text and be 1,024 characters long', async () => {
      for (const id of [`a b%2F+c:d/e ${uid()}`, `ü-名前-${uid()}`, 'x'.repeat(1024 - 20) + uid('').slice(-20)]) {
        await store.writeCategory(write({ entityValue: id, data: { v: id.length } }));
        assert.deepEqual((await store.getCategory('bright_uid', id, CAT))?.data, { v: id.length });
      }
    });

    test("a record in the old service's format reads in the new timestamp form and keeps created_at", async () => {
      const id = uid();
      await instance.insertLegacy({
        entityType: 'bright_uid',
        entityValue: id,
        category: CAT,
        data: { credit_score: 700, ratio: 0.5 },
        createdAt: '2025-10-16T10:00:00.123456+00:00',
        updatedAt: '2025-10-17T11:30:00.987654+00:00',
        computeId: 'legacy-job',
      });
      const legacy = await store.getCategory('bright_uid', id, CAT);
      assert.deepEqual(legacy?.data, { credit_score: 700, ratio: 0.5 });
      assert.deepEqual(legacy?.meta, {
        created_at: '2025-10-16T10:00:00.123Z',
        updated_at: '2025-10-17T11:30:00.987Z',
        compute_id: 'legacy-job',
      });
      const meta = await store.writeCategory(write({ entityValue: id, now: T1, data: { credit_score: 710 } }));
      assert.equal(meta.created_at, '2025-10-16T10:00:00.123Z');
      const after = await store.getCategory('bright_uid', id, CAT);
      assert.deepEqual(after?.meta, { created_at: '2025-10-16T10:00:00.123Z', updated_at: T1, compute_id: null });
      assert.deepEqual(after?.data, { credit_score: 710 });
    });

    test('50 concurrent first writes to one key leave exactly one created_at', async () => {
      const id = uid();
      const nows = Array.from({ length: 50 }, (_, i) => new Date(Date.parse(T0) + i * 1000).toISOString());
      const results = await Promise.all(
        nows.map((now, i) => store.writeCategory(write({ entityValue: id, now, data: { writer: i } }))),
      );
      const record = await store.getCategory('bright_uid', id, CAT);
      assert.ok(record);
      assert.ok(nows.includes(record.meta.created_at), 'created_at is one of the write times');
      // Every writer saw the same creation time: exactly one write created the record.
      assert.deepEqual(new Set(results.map((m) => m.created_at)), new Set([record.meta.created_at]));
      assert.ok(nows.includes(record.meta.updated_at));
    });

    test('health really checks and lists the configured tables', async () => {
      const health = await store.health();
      assert.equal(health.ok, true);
      assert.deepEqual([...health.tablesAvailable].sort(), Object.values(tablesOf(instance)).sort());
    });

    describe('outbox', () => {
      test('an event written with a record can be claimed, and completing removes it', async () => {
        const before = await store.outbox.stats();
        const id = uid();
        const e = event(id, 1);
        await store.writeCategory(write({ entityValue: id, event: e }));
        const stats = await store.outbox.stats();
        assert.equal(stats.pending, before.pending + 1);
        assert.ok(stats.oldestCreatedAt !== null);
        const claimed = await drain(store, 'relay-a');
        assert.ok(claimed.some((c) => c.id === e.id));
        assert.deepEqual(claimed.find((c) => c.id === e.id), e);
        await store.outbox.complete(claimed.map((c) => c.id));
        assert.equal((await store.outbox.stats()).pending, 0);
        assert.deepEqual(await store.outbox.claim('relay-a', 100, 30_000), []);
      });

      test('writes without an event add nothing to the outbox', async () => {
        await store.writeCategory(write({ entityValue: uid() }));
        assert.equal((await store.outbox.stats()).pending, 0);
      });

      test('leased events are not handed to another relay; released ones are', async () => {
        const id = uid();
        await store.writeCategory(write({ entityValue: id, event: event(id, 2) }));
        const first = await drain(store, 'relay-a');
        assert.equal(first.length, 1);
        assert.deepEqual(await store.outbox.claim('relay-b', 100, 30_000), []);
        await store.outbox.release(first.map((c) => c.id));
        const second = await drain(store, 'relay-b');
        assert.deepEqual(second.map((c) => c.id), first.map((c) => c.id));
        await store.outbox.complete(second.map((c) => c.id));
      });

      test('an expired lease makes the event claimable again (at-least-once)', async () => {
        const id = uid();
        await store.writeCategory(write({ entityValue: id, event: event(id, 3) }));
        const first = await store.outbox.claim('relay-a', 100, 1);
        assert.equal(first.length, 1);
        await new Promise((r) => setTimeout(r, 20));
        const again = await drain(store, 'relay-b');
        assert.deepEqual(again.map((c) => c.id), first.map((c) => c.id));
        await store.outbox.complete(again.map((c) => c.id));
      });

      test("one record's events come out in write order, and completing some keeps the rest", async () => {
        const id = uid();
        for (let n = 10; n < 15; n++) {
          await store.writeCategory(write({ entityValue: id, now: new Date(Date.parse(T0) + n).toISOString(), event: event(id, n) }));
        }
        const claimed = await drain(store, 'relay-a');
        assert.deepEqual(
          claimed.map((c) => c.id),
          [10, 11, 12, 13, 14].map((n) => event(id, n).id),
        );
        await store.outbox.complete(claimed.slice(0, 2).map((c) => c.id));
        await store.outbox.release(claimed.slice(2).map((c) => c.id));
        const rest = await drain(store, 'relay-a');
        assert.deepEqual(rest.map((c) => c.id), claimed.slice(2).map((c) => c.id));
        await store.outbox.complete(rest.map((c) => c.id));
        assert.equal((await store.outbox.stats()).pending, 0);
      });
    });
  });
}

/** Claims until nothing more comes (a backend may hand out events in several batches). */
async function drain(store: FeatureStore, owner: string): Promise<OutboxEvent[]> {
  const all: OutboxEvent[] = [];
  for (let i = 0; i < 20; i++) {
    const batch = await store.outbox.claim(owner, 100, 30_000);
    if (batch.length === 0) break;
    all.push(...batch);
  }
  return all;
}

function tablesOf(instance: BackendInstance): Record<string, string> {
  return {
    bright_uid: instance.env.TABLE_NAME_BRIGHT_UID ?? 'user_feature_store',
    account_pid: instance.env.TABLE_NAME_ACCOUNT_PID ?? 'account_feature_store',
  };
}
