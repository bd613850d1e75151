import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { OutboxEvent } from '../../src/model.js';
import type { FeatureStore, JobWrites } from '../../src/store/ports.js';
import { openStore } from '../support/backend.js';
import { BACKENDS, EVENT_BACKENDS } from '../support/backends.js';
import { describeWithStore } from '../support/live-service.js';

const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
let counter = 0;
const uid = (prefix = 'job'): string => `${prefix}-${process.pid}-${Date.now()}-${++counter}`;

function writes(computeId: string, n: number, first: string, last: string, categories: Record<string, number>, entityTypes: Record<string, number>): JobWrites {
  return { computeId, writes: n, firstWriteAt: first, lastWriteAt: last, categories, entityTypes };
}

function event(entityValue: string, computeId: string | null, now: string, type: 'feature_available' | 'feature_deleted' = 'feature_available'): OutboxEvent {
  const id = randomUUID();
  return {
    id,
    key: `bright_uid:${entityValue}`,
    event: {
      event_id: id,
      event_type: type,
      timestamp: now,
      entity_type: 'bright_uid',
      entity_id: entityValue,
      resource_type: 'feature',
      resource_name: CAT,
      compute_id: computeId,
      event_time: null,
      features: ['v'],
    },
  };
}

/** The job statistics port (ports.ts `ComputeJobStatsStore`, `countByComputeId`) on every backend. */
for (const backend of BACKENDS) {
  describeWithStore('compute job statistics', backend, (live) => {
    test('add sums counts and keeps the earliest first and the latest last write; an unknown job is undefined', async () => {
      const job = uid();
      assert.equal(await live.store.computeJobs.get(job), undefined);
      await live.store.computeJobs.add([writes(job, 2, '2025-10-16T10:00:00.000Z', '2025-10-16T10:01:00.000Z', { [CAT]: 2 }, { bright_uid: 2 })]);
      await live.store.computeJobs.add([writes(job, 3, '2025-10-16T09:00:00.000Z', '2025-10-16T09:30:00.000Z', { [CAT]: 1, [CAT2]: 2 }, { bright_uid: 1, account_pid: 2 })]);
      assert.deepEqual(await live.store.computeJobs.get(job), {
        computeId: job,
        writes: 5,
        firstWriteAt: '2025-10-16T09:00:00.000Z',
        lastWriteAt: '2025-10-16T10:01:00.000Z',
        categories: { [CAT]: 3, [CAT2]: 2 },
        entityTypes: { account_pid: 2, bright_uid: 3 },
      });
    });

    test('list: latest last write first, paged after the last job of a page, filtered by category', async () => {
      const run = uid('list');
      const times = ['2030-01-01T00:00:00.000Z', '2030-01-03T00:00:00.000Z', '2030-01-02T00:00:00.000Z', '2030-01-03T00:00:00.000Z', '2030-01-05T00:00:00.000Z'];
      await live.store.computeJobs.add(times.map((t, i) => writes(`${run}-${i}`, 1, t, t, i === 2 ? { [CAT2]: 1 } : { [CAT]: 1 }, { bright_uid: 1 })));
      const whole = await live.store.computeJobs.list({ limit: 1000 });
      assert.equal(whole.more, false);
      const ours = whole.jobs.filter((j) => j.computeId.startsWith(run));
      assert.deepEqual(ours.map((j) => j.lastWriteAt), [...times].sort().reverse());
      assert.deepEqual(whole.jobs.slice(0, 5), ours, 'the latest lead');
      const paged: JobWrites[] = [];
      let after: { lastWriteAt: string; computeId: string } | undefined;
      for (let pages = 0; pages < 50; pages++) {
        const page = await live.store.computeJobs.list({ limit: 2, after });
        assert.ok(page.jobs.length <= 2, 'page.jobs.length <= 2');
        paged.push(...page.jobs);
        const last = page.jobs.at(-1);
        if (!page.more || last === undefined) break;
        after = { lastWriteAt: last.lastWriteAt, computeId: last.computeId };
      }
      assert.deepEqual(paged, whole.jobs);
      const inCat2 = await live.store.computeJobs.list({ limit: 1000, category: CAT2 });
      assert.deepEqual(inCat2.jobs.filter((j) => j.computeId.startsWith(run)).map((j) => j.computeId), [`${run}-2`]);
    });

    test('countByComputeId counts the records whose current compute id it is', async () => {
      const job = uid();
      const now = '2025-10-16T10:00:00.000Z';
      for (let i = 0; i < 3; i++) await live.store.writeRecord({ key: { entityType: 'bright_uid', entityValue: `${job}-${i}`, category: CAT }, data: { v: i }, computeId: job, now });
      await live.store.writeRecord({ key: { entityType: 'bright_uid', entityValue: `${job}-0`, category: CAT }, data: { v: 9 }, computeId: uid(), now });
      await live.store.writeRecord({ key: { entityType: 'account_pid', entityValue: `${job}-a`, category: CAT2 }, data: { v: 1 }, computeId: job, now });
      // The DynamoDB index is eventually consistent.
      for (let i = 0; i < 50 && (await live.store.countByComputeId('bright_uid', job)) !== 2; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await live.store.countByComputeId('bright_uid', job), 2);
      assert.equal(await live.store.countByComputeId('account_pid', job), 1);
      assert.equal(await live.store.countByComputeId('bright_uid', uid()), 0);
    });
  });
}

/** Counting as events leave the outbox (ports.ts `OutboxStore.complete`): exactly once. */
for (const backend of EVENT_BACKENDS) {
  describeWithStore('compute job statistics from the outbox', backend, (live) => {
    async function writeWithEvent(store: FeatureStore, entityValue: string, computeId: string | null, now: string): Promise<void> {
      await store.writeRecord({ key: { entityType: 'bright_uid', entityValue, category: CAT }, data: { v: 1 }, computeId, now, event: event(entityValue, computeId, now) });
    }

    test('complete counts the feature_available events with a compute id it removes; deletes and null ids count nowhere', async () => {
      const job = uid();
      await writeWithEvent(live.store, uid('v'), job, '2025-10-16T10:00:00.000Z');
      await writeWithEvent(live.store, uid('v'), job, '2025-10-16T10:02:00.000Z');
      await writeWithEvent(live.store, uid('v'), null, '2025-10-16T10:03:00.000Z');
      const gone = uid('v');
      await writeWithEvent(live.store, gone, job, '2025-10-16T10:01:00.000Z');
      await live.store.deleteRecord({
        key: { entityType: 'bright_uid', entityValue: gone, category: CAT },
        now: '2025-10-16T10:04:00.000Z',
        event: () => event(gone, job, '2025-10-16T10:04:00.000Z', 'feature_deleted'),
      });
      const claimed = await live.store.outbox.claim('relay', 100, 30_000);
      assert.equal(claimed.length, 5);
      assert.equal(await live.store.computeJobs.get(job), undefined, 'nothing counted before complete');
      await live.store.outbox.complete(claimed.map((e) => e.id));
      assert.deepEqual(await live.store.computeJobs.get(job), {
        computeId: job,
        writes: 3,
        firstWriteAt: '2025-10-16T10:00:00.000Z',
        lastWriteAt: '2025-10-16T10:02:00.000Z',
        categories: { [CAT]: 3 },
        entityTypes: { bright_uid: 3 },
      });
    });

    test('events published twice (a relay lost its lease, another took over) are counted once', async () => {
      const job = uid();
      const values = Array.from({ length: 4 }, () => uid('v'));
      for (const v of values) await writeWithEvent(live.store, v, job, '2025-10-16T11:00:00.000Z');
      // A second writer appends to one record's events while they are leased.
      const other = await openStore(live.instance, { KAFKA_BROKERS: '127.0.0.1:9' });
      try {
        const first = await live.store.outbox.claim('relay-a', 100, 1_000);
        assert.equal(first.length, 4);
        await writeWithEvent(other, values[0] as string, job, '2025-10-16T11:01:00.000Z');
        await new Promise((r) => setTimeout(r, 1_100)); // relay-a "crashed": its lease expires
        const second = await other.outbox.claim('relay-b', 100, 30_000);
        assert.deepEqual(new Set(second.map((e) => e.id)), new Set([...first.map((e) => e.id), second.at(-1)?.id]));
        assert.equal(second.length, 5);
        await other.outbox.complete(second.map((e) => e.id));
        assert.equal((await live.store.computeJobs.get(job))?.writes, 5);
        // relay-a comes back and completes what it had published: already gone, counted nowhere.
        await live.store.outbox.complete(first.map((e) => e.id));
        assert.equal((await live.store.computeJobs.get(job))?.writes, 5);
        assert.equal((await live.store.outbox.stats()).pending, 0);
      } finally {
        await other.close();
      }
    });
  });
}
