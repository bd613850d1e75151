import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { outboxEventText, type FeatureMap, type FeatureRecord, type OutboxEvent } from '../../src/model.js';
import type { FeatureStore, RecordKey, WriteRecordInput, WriteResult, WrittenMeta } from '../../src/store/ports.js';
import { openStore, type BackendInstance, type TestBackend } from '../support/backend.js';
import { eventId, outboxEvent } from '../support/fixtures.js';

const T0 = '2025-10-16T10:00:00.000Z';
const T1 = '2025-10-16T10:05:00.000Z';
const T2 = '2025-10-16T10:10:00.000Z';
const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';

let counter = 0;
/** A fresh entity value per test so tests never see each other's records. */
function uid(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}`;
}

function key(entityValue: string, category = CAT, entityType = 'bright_uid'): RecordKey {
  return { entityType, entityValue, category };
}

type WriteOverrides = Partial<Omit<WriteRecordInput, 'key'>> & { entityValue: string; entityType?: string; category?: string };

function write(overrides: WriteOverrides): WriteRecordInput {
  const { entityValue, entityType, category, ...rest } = overrides;
  return {
    key: key(entityValue, category, entityType),
    data: { credit_score: 750 },
    computeId: null,
    now: T0,
    ...rest,
  };
}

function event(entityValue: string, n: number): OutboxEvent {
  return outboxEvent(entityValue, { id: eventId(n), timestamp: T0 });
}

/** The event the service records for a delete: the deleted record's feature names. */
function deleteEvent(n: number) {
  return (deleted: FeatureRecord): OutboxEvent => {
    const base = outboxEvent(deleted.entityValue, {
      id: eventId(n),
      timestamp: T1,
      category: deleted.category,
      features: Object.keys(deleted.data).sort(),
    });
    return { ...base, event: { ...base.event, event_type: 'feature_deleted' } };
  };
}

function isoPlus(base: string, ms: number): string {
  return new Date(Date.parse(base) + ms).toISOString();
}

/** The meta of an applied write; fails on a stale one. */
function applied(result: WriteResult): WrittenMeta {
  assert.equal(result.outcome, 'applied', `expected an applied write, got ${JSON.stringify(result)}`);
  return result.outcome === 'applied' ? result.meta : assert.fail();
}

/**
 * Checks a write's meta. `created_at` and `created` may be undefined where the backend cannot
 * learn them (the port allows it); when reported, they must be right.
 */
function assertWritten(meta: WrittenMeta, expected: { created_at: string; created: boolean; updated_at: string; compute_id: string | null; event_time?: string }): void {
  if (meta.created_at !== undefined) assert.equal(meta.created_at, expected.created_at, 'created_at');
  if (meta.created !== undefined) assert.equal(meta.created, expected.created, 'created');
  assert.equal(meta.updated_at, expected.updated_at, 'updated_at');
  assert.equal(meta.compute_id, expected.compute_id, 'compute_id');
  assert.equal(meta.event_time, expected.event_time, 'event_time');
}

/**
 * The universal storage contract (see src/store/ports.ts). Every backend runs this suite
 * unchanged against a real instance of itself, through the port only.
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

    async function get(k: RecordKey): Promise<FeatureRecord | undefined> {
      const [record, ...rest] = await store.getRecords([k]);
      assert.equal(rest.length, 0);
      return record;
    }

    /** Claims every pending event and completes them, so the next test starts with an empty outbox. */
    async function drainAndComplete(): Promise<OutboxEvent[]> {
      const all = await drain(store, 'contract');
      await store.outbox.complete(all.map((e) => e.id));
      return all;
    }

    test('a missing record reads as undefined', async () => {
      assert.deepEqual(await store.getRecords([key(uid())]), [undefined]);
    });

    test('a first write creates the record with created_at == updated_at', async () => {
      const id = uid();
      const meta = applied(await store.writeRecord(write({ entityValue: id, computeId: 'job-1', data: { a: 1, b: 'x' } })));
      assertWritten(meta, { created_at: T0, created: true, updated_at: T0, compute_id: 'job-1' });
      assert.deepEqual(await get(key(id)), {
        entityType: 'bright_uid',
        entityValue: id,
        category: CAT,
        data: { a: 1, b: 'x' },
        meta: { created_at: T0, updated_at: T0, compute_id: 'job-1' },
      });
    });

    test('a later write replaces data, keeps created_at, moves updated_at, replaces compute_id', async () => {
      const id = uid();
      await store.writeRecord(write({ entityValue: id, computeId: 'job-1', data: { old: 1, kept: 2 } }));
      const meta = applied(await store.writeRecord(write({ entityValue: id, now: T1, computeId: null, data: { kept: 3, fresh: true } })));
      assertWritten(meta, { created_at: T0, created: false, updated_at: T1, compute_id: null });
      const record = await get(key(id));
      assert.deepEqual(record?.data, { kept: 3, fresh: true });
      assert.deepEqual(record?.meta, { created_at: T0, updated_at: T1, compute_id: null });
    });

    test('entity types are separate keyspaces', async () => {
      const id = uid();
      await store.writeRecord(write({ entityValue: id, data: { who: 'user' } }));
      assert.equal(await get(key(id, CAT, 'account_pid')), undefined);
      await store.writeRecord(write({ entityType: 'account_pid', entityValue: id, data: { who: 'account' } }));
      assert.deepEqual((await get(key(id)))?.data, { who: 'user' });
      assert.deepEqual((await get(key(id, CAT, 'account_pid')))?.data, { who: 'account' });
    });

    test('categories of one entity are separate records', async () => {
      const id = uid();
      await store.writeRecord(write({ entityValue: id, data: { a: 1 } }));
      assert.equal(await get(key(id, CAT2)), undefined);
    });

    describe('getRecords', () => {
      test('an empty input resolves with []', async () => {
        assert.deepEqual(await store.getRecords([]), []);
      });

      test('results are aligned to the keys, misses are undefined, duplicates each get the record', async () => {
        const id = uid();
        const other = uid();
        await store.writeRecord(write({ entityValue: id, category: CAT, data: { a: 1 } }));
        await store.writeRecord(write({ entityValue: other, category: CAT2, data: { b: 2 } }));
        await store.writeRecord(write({ entityType: 'account_pid', entityValue: id, category: CAT, data: { c: 3 } }));
        const keys = [
          key(id, CAT2), // miss
          key(id, CAT),
          key(other, CAT2),
          key(id, CAT, 'account_pid'),
          key(id, CAT), // duplicate
          key(uid(), CAT), // miss
          key(other, CAT, 'account_pid'), // miss
          key(other, CAT2), // duplicate
        ];
        const records = await store.getRecords(keys);
        assert.equal(records.length, keys.length);
        assert.deepEqual(
          records.map((r) => (r === undefined ? undefined : [r.entityType, r.entityValue, r.category, r.data])),
          [
            undefined,
            ['bright_uid', id, CAT, { a: 1 }],
            ['bright_uid', other, CAT2, { b: 2 }],
            ['account_pid', id, CAT, { c: 3 }],
            ['bright_uid', id, CAT, { a: 1 }],
            undefined,
            undefined,
            ['bright_uid', other, CAT2, { b: 2 }],
          ],
        );
        assert.deepEqual(records[1]?.meta, { created_at: T0, updated_at: T0, compute_id: null });
      });

      test('160 keys of both entity types in one call', async () => {
        const ids = Array.from({ length: 40 }, () => uid('many'));
        await Promise.all(ids.map((id, i) => store.writeRecord(write({ entityValue: id, category: i % 2 === 0 ? CAT : CAT2, data: { i } }))));
        await Promise.all(ids.slice(0, 10).map((id, i) => store.writeRecord(write({ entityType: 'account_pid', entityValue: id, data: { acct: i } }))));
        const keys: RecordKey[] = [];
        for (const id of ids) keys.push(key(id, CAT), key(id, CAT2), key(id, CAT, 'account_pid'), key(id, CAT2, 'account_pid'));
        const records = await store.getRecords(keys);
        assert.equal(records.length, 160);
        records.forEach((record, n) => {
          const k = keys[n] as RecordKey;
          const i = Math.floor(n / 4);
          let expected: FeatureMap | undefined;
          if (k.entityType === 'bright_uid') expected = (i % 2 === 0) === (k.category === CAT) ? { i } : undefined;
          else expected = i < 10 && k.category === CAT ? { acct: i } : undefined;
          assert.deepEqual(record?.data, expected, `key ${n}`);
          if (record !== undefined) {
            assert.deepEqual([record.entityType, record.entityValue, record.category], [k.entityType, k.entityValue, k.category]);
          }
        });
      });

      test('getRecordsNow, where a backend has it, answers exactly as getRecords', async (t) => {
        const now = store.getRecordsNow?.bind(store);
        if (now === undefined) {
          assert.notEqual(store.type, 'sqlite', 'SQLite reads on the calling thread');
          t.diagnostic(`${store.type} has no synchronous read`);
          return;
        }
        const id = uid();
        await store.writeRecord(write({ entityValue: id, category: CAT, data: { a: 1, s: 'x' } }));
        await store.writeRecord(write({ entityType: 'account_pid', entityValue: id, category: CAT2, data: { n: null } }));
        for (const keys of [[], [key(id, CAT)], [key(uid(), CAT)], [key(id, CAT2), key(id, CAT), key(id, CAT2, 'account_pid'), key(id, CAT)]]) {
          const sync = now(keys);
          assert.ok(Array.isArray(sync), 'a value, not a promise');
          assert.deepEqual(
            sync.map((r) => (r === undefined ? undefined : [r.entityType, r.entityValue, r.category, r.data, r.meta])),
            (await store.getRecords(keys)).map((r) => (r === undefined ? undefined : [r.entityType, r.entityValue, r.category, r.data, r.meta])),
          );
        }
        assert.deepEqual(now([key(id, CAT)])[0]?.data, { a: 1, s: 'x' });
      });

      test('getStoredNow, where a backend has it, answers as getRecordsNow: the stored JSON text and the metadata as JSON text', async (t) => {
        const stored = store.getStoredNow?.bind(store);
        const now = store.getRecordsNow?.bind(store);
        if (stored === undefined || now === undefined) {
          assert.equal(stored, undefined, 'only beside getRecordsNow');
          t.diagnostic(`${store.type} reads no stored text`);
          return;
        }
        const id = uid();
        const data = { b: [1, { c: 'ü "q"' }], a: null, '10': 2.5 };
        await store.writeRecord(write({ entityValue: id, category: CAT, data, computeId: 'job "1"', eventTime: '2025-10-16T09:00:00.000Z' }));
        await store.writeRecord(write({ entityType: 'account_pid', entityValue: id, category: CAT2, data: { n: 1 } }));
        const grid = [uid(), id, id, uid()].flatMap((value) => [key(value, CAT), key(value, CAT2)]);
        for (const keys of [[], [key(id, CAT)], [key(uid(), CAT)], [key(id, CAT2), key(id, CAT)], [key(id, CAT2), key(id, CAT), key(id, CAT2, 'account_pid'), key(id, CAT)], grid]) {
          const records: (FeatureRecord | undefined)[] = now(keys);
          assert.deepEqual(
            stored(keys),
            records.map((r) =>
              r === undefined
                ? undefined
                : { data: JSON.stringify(r.data), meta: JSON.stringify(r.meta) },
            ),
            `${keys.length} keys`,
          );
        }
        assert.equal(stored([key(id, CAT)])[0]?.data, JSON.stringify(data));
      });
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
      await store.writeRecord(write({ entityValue: id, data }));
      const record = await get(key(id));
      assert.deepEqual(record?.data, data);
      assert.equal(JSON.stringify(record?.data), JSON.stringify(data));
    });

    test('entity values may hold spaces, %, +, :, /, non-ASCII text and be 1,024 characters long', async () => {
      for (const id of [`a b%2F+c:d/e ${uid()}`, `ü-名前-${uid()}`, 'x'.repeat(1024 - 20) + uid('').slice(-20)]) {
        await store.writeRecord(write({ entityValue: id, data: { v: id.length } }));
        assert.deepEqual((await get(key(id)))?.data, { v: id.length });
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
      const legacy = await get(key(id));
      assert.deepEqual(legacy?.data, { credit_score: 700, ratio: 0.5 });
      assert.deepEqual(legacy?.meta, {
        created_at: '2025-10-16T10:00:00.123Z',
        updated_at: '2025-10-17T11:30:00.987Z',
        compute_id: 'legacy-job',
      });
      const meta = applied(await store.writeRecord(write({ entityValue: id, now: T1, data: { credit_score: 710 } })));
      assertWritten(meta, { created_at: '2025-10-16T10:00:00.123Z', created: false, updated_at: T1, compute_id: null });
      const after = await get(key(id));
      assert.deepEqual(after?.meta, { created_at: '2025-10-16T10:00:00.123Z', updated_at: T1, compute_id: null });
      assert.deepEqual(after?.data, { credit_score: 710 });
    });

    test('50 concurrent first writes to one key leave exactly one created_at', async () => {
      const id = uid();
      const nows = Array.from({ length: 50 }, (_, i) => isoPlus(T0, i * 1000));
      const results = await Promise.all(nows.map((now, i) => store.writeRecord(write({ entityValue: id, now, data: { writer: i } }))));
      const record = await get(key(id));
      assert.ok(record, 'record');
      assert.ok(nows.includes(record.meta.created_at), 'created_at is one of the write times');
      const metas = results.map(applied);
      // Every writer that learned the creation time saw the same one: exactly one write created the record.
      for (const m of metas) if (m.created_at !== undefined) assert.equal(m.created_at, record.meta.created_at);
      if (metas.every((m) => m.created !== undefined)) assert.equal(metas.filter((m) => m.created === true).length, 1);
      assert.ok(nows.includes(record.meta.updated_at), 'nows.includes(record.meta.updated_at)');
    });

    describe('event time', () => {
      test('reads carry event_time only when the latest write gave one', async () => {
        const id = uid();
        const meta = applied(await store.writeRecord(write({ entityValue: id, eventTime: T0 })));
        assertWritten(meta, { created_at: T0, created: true, updated_at: T0, compute_id: null, event_time: T0 });
        assert.deepEqual((await get(key(id)))?.meta, { created_at: T0, updated_at: T0, compute_id: null, event_time: T0 });
        const plain = uid();
        await store.writeRecord(write({ entityValue: plain }));
        const record = await get(key(plain));
        assert.ok(record !== undefined && !('event_time' in record.meta), 'no event_time key without one');
      });

      test('an older event time is stale: nothing changes and no event is recorded', async () => {
        const id = uid();
        await store.writeRecord(write({ entityValue: id, eventTime: T1, computeId: 'new', data: { v: 'new' }, event: event(id, 100) }));
        await drainAndComplete();
        const before = await get(key(id));
        const result = await store.writeRecord(
          write({ entityValue: id, eventTime: T0, now: T2, computeId: 'old', data: { v: 'old' }, event: event(id, 101) }),
        );
        assert.deepEqual(result, { outcome: 'stale', storedEventTime: T1 });
        assert.deepEqual(await get(key(id)), before);
        assert.equal((await store.outbox.stats()).pending, 0);
        assert.deepEqual(await store.outbox.claim('contract', 100, 30_000), []);
      });

      test('an equal event time applies', async () => {
        const id = uid();
        await store.writeRecord(write({ entityValue: id, eventTime: T1, data: { v: 1 } }));
        const meta = applied(await store.writeRecord(write({ entityValue: id, eventTime: T1, now: T2, data: { v: 2 } })));
        assertWritten(meta, { created_at: T0, created: false, updated_at: T2, compute_id: null, event_time: T1 });
        assert.deepEqual(await get(key(id)), {
          ...key(id),
          data: { v: 2 },
          meta: { created_at: T0, updated_at: T2, compute_id: null, event_time: T1 },
        });
      });

      test('a newer event time applies and records its event', async () => {
        const id = uid();
        await store.writeRecord(write({ entityValue: id, eventTime: T0, data: { v: 1 } }));
        const e = event(id, 102);
        applied(await store.writeRecord(write({ entityValue: id, eventTime: T1, now: T1, data: { v: 2 }, event: e })));
        const record = await get(key(id));
        assert.deepEqual(record?.data, { v: 2 });
        assert.equal(record?.meta.event_time, T1);
        assert.deepEqual(await drainAndComplete(), [e]);
      });

      test('a write without an event time always applies and clears the stored one', async () => {
        const id = uid();
        await store.writeRecord(write({ entityValue: id, eventTime: T2, data: { v: 1 } }));
        const meta = applied(await store.writeRecord(write({ entityValue: id, now: T1, data: { v: 2 } })));
        assert.equal(meta.event_time, undefined);
        assert.deepEqual((await get(key(id)))?.meta, { created_at: T0, updated_at: T1, compute_id: null });
        // With no stored event time, any event time applies again.
        applied(await store.writeRecord(write({ entityValue: id, eventTime: T0, now: T2, data: { v: 3 } })));
        assert.equal((await get(key(id)))?.meta.event_time, T0);
      });

      test('concurrent writes in random arrival order leave the newest event time stored', async () => {
        for (let round = 0; round < 5; round++) {
          const id = uid();
          const times = shuffle(Array.from({ length: 20 }, (_, i) => i));
          const results = await Promise.all(
            times.map((i) => store.writeRecord(write({ entityValue: id, eventTime: isoPlus(T0, i * 1000), now: isoPlus(T1, i), data: { i } }))),
          );
          const record = await get(key(id));
          assert.equal(record?.meta.event_time, isoPlus(T0, 19_000));
          assert.deepEqual(record?.data, { i: 19 });
          results.forEach((r, n) => {
            const eventTime = isoPlus(T0, (times[n] as number) * 1000);
            if (r.outcome === 'stale') assert.ok(r.storedEventTime > eventTime, 'a stale write lost to a later event time');
            else if (r.outcome === 'applied') assert.equal(r.meta.event_time, eventTime);
            else assert.fail(`a write without onlyIfComputeId reported ${r.outcome}`);
          });
          assert.equal(results[times.indexOf(19)]?.outcome, 'applied');
        }
      });
    });

    describe('deleteRecord', () => {
      test('returns the deleted record; it then reads as undefined and a second delete finds nothing', async () => {
        const id = uid();
        await store.writeRecord(write({ entityValue: id, computeId: 'job-1', eventTime: T0, data: { a: 1 } }));
        const before = await get(key(id));
        assert.deepEqual(await store.deleteRecord({ key: key(id), now: T1 }), before);
        assert.deepEqual(await store.getRecords([key(id), key(id)]), [undefined, undefined]);
        assert.equal(await store.deleteRecord({ key: key(id), now: T2 }), undefined);
      });

      test('deletes only that record', async () => {
        const id = uid();
        await store.writeRecord(write({ entityValue: id, category: CAT, data: { a: 1 } }));
        await store.writeRecord(write({ entityValue: id, category: CAT2, data: { b: 2 } }));
        await store.writeRecord(write({ entityType: 'account_pid', entityValue: id, data: { c: 3 } }));
        await store.deleteRecord({ key: key(id, CAT), now: T1 });
        const records = await store.getRecords([key(id, CAT), key(id, CAT2), key(id, CAT, 'account_pid')]);
        assert.deepEqual(records.map((r) => r?.data), [undefined, { b: 2 }, { c: 3 }]);
      });

      test('records the event built from the deleted record, after the events of earlier writes', async () => {
        const id = uid();
        const written = event(id, 200);
        await store.writeRecord(write({ entityValue: id, data: { credit_score: 1, ratio: 0.5 }, event: written }));
        const seen: FeatureRecord[] = [];
        const build = deleteEvent(201);
        const deleted = await store.deleteRecord({
          key: key(id),
          now: T1,
          event: (record) => {
            seen.push(record);
            return build(record);
          },
        });
        assert.ok(deleted, 'deleted');
        // A backend may build the event more than once (a retried attempt); always from the record deleted.
        assert.ok(seen.length >= 1, 'seen.length >= 1');
        for (const record of seen) assert.deepEqual(record, deleted);
        const claimed = await drainAndComplete();
        assert.deepEqual(claimed.map((e) => e.id), [written.id, eventId(201)]);
        assert.equal(claimed[1]?.event.event_type, 'feature_deleted');
        assert.deepEqual(claimed[1]?.event.features, ['credit_score', 'ratio']);
        assert.deepEqual(claimed[1], build(deleted));
      });

      test('a delete of a missing record records no event', async () => {
        const before = (await store.outbox.stats()).pending;
        assert.equal(await store.deleteRecord({ key: key(uid()), now: T1, event: deleteEvent(202) }), undefined);
        assert.equal((await store.outbox.stats()).pending, before);
        assert.ok(!(await drainAndComplete()).some((e) => e.id === eventId(202)), '!(await drainAndComplete()).some((e) => e.id === eventId(202))');
      });

      test('a write after a delete creates a new record with a new created_at and no event time', async () => {
        const id = uid();
        await store.writeRecord(write({ entityValue: id, eventTime: T2, data: { a: 1 } }));
        await store.deleteRecord({ key: key(id), now: T1 });
        const meta = applied(await store.writeRecord(write({ entityValue: id, now: T2, data: { a: 2 } })));
        assertWritten(meta, { created_at: T2, created: true, updated_at: T2, compute_id: null });
        assert.deepEqual((await get(key(id)))?.meta, { created_at: T2, updated_at: T2, compute_id: null });
      });
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
        await store.writeRecord(write({ entityValue: id, event: e }));
        const stats = await store.outbox.stats();
        assert.equal(stats.pending, before.pending + 1);
        assert.ok(stats.oldestCreatedAt !== null, 'stats.oldestCreatedAt !== null');
        const claimed = await drain(store, 'relay-a');
        assert.ok(claimed.some((c) => c.id === e.id), 'claimed.some((c) => c.id === e.id)');
        const found = claimed.find((c) => c.id === e.id) as OutboxEvent;
        assert.deepEqual(found, e);
        // The text a publisher sends as it is, when the backend keeps it: the event's JSON, byte for byte.
        const text = outboxEventText(found);
        if (text !== undefined) assert.equal(text, JSON.stringify(e.event));
        await store.outbox.complete(claimed.map((c) => c.id));
        assert.equal((await store.outbox.stats()).pending, 0);
        assert.deepEqual(await store.outbox.claim('relay-a', 100, 30_000), []);
      });

      test('writes and deletes without an event add nothing to the outbox', async () => {
        const id = uid();
        await store.writeRecord(write({ entityValue: id }));
        await store.deleteRecord({ key: key(id), now: T1 });
        assert.equal((await store.outbox.stats()).pending, 0);
      });

      test('leased events are not handed to another relay; released ones are', async () => {
        const id = uid();
        await store.writeRecord(write({ entityValue: id, event: event(id, 2) }));
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
        await store.writeRecord(write({ entityValue: id, event: event(id, 3) }));
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
          await store.writeRecord(write({ entityValue: id, now: isoPlus(T0, n), event: event(id, n) }));
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

/** Fisher–Yates: a new random order each run, so arrival order is not always the same. */
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function tablesOf(instance: BackendInstance): Record<string, string> {
  return {
    bright_uid: instance.env.TABLE_NAME_BRIGHT_UID ?? 'user_feature_store',
    account_pid: instance.env.TABLE_NAME_ACCOUNT_PID ?? 'account_feature_store',
  };
}
