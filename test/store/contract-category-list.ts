import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FeatureRecord } from '../../src/model.js';
import type { CategoryListPosition } from '../../src/store/ports.js';
import type { TestBackend } from '../support/backend.js';
import { describeWithStore } from '../support/live-service.js';

const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
const T0 = '2025-10-16T10:00:00.000Z';

/**
 * The by-category listing part of the storage contract (ports.ts `listCategory`), run by
 * store-contract.test.ts on every event backend: every record of the category and entity type
 * exactly once across pages, whole, pages bounded; other categories, other entity types and
 * deleted records left out.
 */
export function categoryListContract(backend: TestBackend): void {
  describeWithStore('FeatureStore contract, records of a category', backend, (live) => {
    const listAll = async (entityType: string, category: string, limit: number): Promise<FeatureRecord[]> => {
      const records: FeatureRecord[] = [];
      let after: CategoryListPosition | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = await live.store.listCategory({ entityType, category, limit, after });
        assert.ok(page.records.length <= limit, 'a page holds at most limit records');
        records.push(...page.records);
        if (page.next === undefined) return records;
        after = page.next;
      }
      throw new Error('the listing did not end');
    };

    test('every record of the category once, whole, across pages; the rest left out', async () => {
      const values = Array.from({ length: 7 }, (_, i) => `list-${i}`);
      for (const v of values) {
        await live.store.writeRecord({ key: { entityType: 'bright_uid', entityValue: v, category: CAT }, data: { v, n: [1, { x: null }] }, computeId: 'job-l', now: T0 });
      }
      await live.store.writeRecord({ key: { entityType: 'bright_uid', entityValue: 'list-0', category: CAT2 }, data: { other: 1 }, computeId: null, now: T0 });
      await live.store.writeRecord({ key: { entityType: 'account_pid', entityValue: 'list-a', category: CAT }, data: { other: 1 }, computeId: null, now: T0 });
      await live.store.deleteRecord({ key: { entityType: 'bright_uid', entityValue: 'list-6', category: CAT }, now: T0 });

      for (const limit of [1, 3, 100]) {
        const records = await listAll('bright_uid', CAT, limit);
        assert.deepEqual(records.map((r) => r.entityValue).sort(), values.slice(0, 6), `limit ${limit}`);
        const first = records.find((r) => r.entityValue === 'list-2');
        assert.deepEqual(first, {
          entityType: 'bright_uid',
          entityValue: 'list-2',
          category: CAT,
          data: { v: 'list-2', n: [1, { x: null }] },
          meta: { created_at: T0, updated_at: T0, compute_id: 'job-l' },
        });
      }
      assert.deepEqual((await listAll('account_pid', CAT, 10)).map((r) => r.entityValue), ['list-a']);
      assert.deepEqual(await listAll('account_pid', CAT2, 10), []);
    });
  });
}
