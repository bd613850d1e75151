import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ComputeJobRecord } from '../../src/model.js';
import type { ComputeJobQuery, WriteRecordInput } from '../../src/store/ports.js';
import type { TestBackend } from '../support/backend.js';
import { describeWithStore } from '../support/live-service.js';

const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
const T0 = '2025-10-16T10:00:00.000Z';
let counter = 0;
const uid = (prefix = 'job'): string => `${prefix}-${process.pid}-${Date.now()}-${++counter}`;

function write(entityValue: string, computeId: string | null, extra: Partial<WriteRecordInput> & { entityType?: string; category?: string } = {}): WriteRecordInput {
  const { entityType = 'bright_uid', category = CAT, ...rest } = extra;
  return { key: { entityType, entityValue, category }, data: { v: 1 }, computeId, now: T0, ...rest };
}

/**
 * The by-compute-id part of the storage contract (ports.ts `findByComputeId`), run by
 * store-contract.test.ts on every event backend.
 */
export function computeJobContract(backend: TestBackend): void {
  describeWithStore('FeatureStore contract, records by compute id', backend, (live) => {
    const find = (query: Partial<ComputeJobQuery> & { computeId: string }) => live.store.findByComputeId({ entityType: 'bright_uid', limit: 100, ...query });
    const keys = (records: ComputeJobRecord[]) => records.map((r) => `${r.entityType}/${r.category}/${r.entityValue}`);

    test('an unknown compute id finds nothing', async () => {
      assert.deepEqual(await find({ computeId: uid() }), { records: [], more: false });
    });

    test('only records whose current compute id it is: rewritten, null and deleted records leave the list', async () => {
      const job = uid();
      const [kept, rewritten, nulled, deleted] = ['kept', 'rewritten', 'nulled', 'deleted'].map((n) => `${n}-${uid('v')}`) as [string, string, string, string];
      for (const v of [kept, rewritten, nulled, deleted]) await live.store.writeRecord(write(v, job, { now: '2025-10-16T10:00:01.000Z' }));
      await live.store.writeRecord(write(rewritten, uid()));
      await live.store.writeRecord(write(nulled, null));
      await live.store.deleteRecord({ key: { entityType: 'bright_uid', entityValue: deleted, category: CAT }, now: T0 });
      assert.deepEqual(await find({ computeId: job }), {
        records: [{ entityType: 'bright_uid', entityValue: kept, category: CAT, updatedAt: '2025-10-16T10:00:01.000Z' }],
        more: false,
      });
    });

    test('entity types are separate; a category filter keeps only that category', async () => {
      const job = uid();
      const id = uid('v');
      await live.store.writeRecord(write(id, job));
      await live.store.writeRecord(write(id, job, { category: CAT2 }));
      await live.store.writeRecord(write(id, job, { entityType: 'account_pid' }));
      assert.deepEqual(keys((await find({ computeId: job })).records), [`bright_uid/${CAT}/${id}`, `bright_uid/${CAT2}/${id}`]);
      assert.deepEqual(keys((await find({ computeId: job, entityType: 'account_pid' })).records), [`account_pid/${CAT}/${id}`]);
      assert.deepEqual(keys((await find({ computeId: job, category: CAT2 })).records), [`bright_uid/${CAT2}/${id}`]);
    });

    test('pages ordered by category, each record exactly once, more only while records follow', async () => {
      const job = uid();
      const written: string[] = [];
      for (let i = 0; i < 7; i++) {
        const v = uid('p');
        const category = i % 3 === 0 ? CAT2 : CAT;
        await live.store.writeRecord(write(v, job, { category }));
        written.push(`bright_uid/${category}/${v}`);
      }
      for (const [limit, category] of [[3, undefined], [1, undefined], [7, undefined], [2, CAT], [4, CAT2]] as const) {
        const seen: ComputeJobRecord[] = [];
        let after: ComputeJobQuery['after'];
        let pages = 0;
        for (;;) {
          const page = await find({ computeId: job, limit, after, category });
          pages += 1;
          assert.ok(page.records.length <= limit, 'page.records.length <= limit');
          seen.push(...page.records);
          if (!page.more) break;
          assert.equal(page.records.length, limit, 'a page followed by more is full');
          const last = page.records[page.records.length - 1] as ComputeJobRecord;
          after = { entityValue: last.entityValue, category: last.category };
        }
        const expected = written.filter((k) => category === undefined || k.startsWith(`bright_uid/${category}/`));
        assert.deepEqual([...keys(seen)].sort(), [...expected].sort(), `limit ${limit}: every record once`);
        const categories = seen.map((r) => r.category);
        assert.deepEqual(categories, [...categories].sort(), 'ordered by category');
        assert.equal(pages, Math.max(1, Math.ceil(expected.length / limit)), `limit ${limit}: no empty last page`);
      }
    });
  });
}
