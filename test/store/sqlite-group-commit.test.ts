import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-group-commit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TABLES = { bright_uid: 'user_feature_store' };

function write(i: number) {
  return {
    entityType: 'bright_uid',
    entityValue: `user-${i}`,
    category: 'd0_unauth_features',
    data: { i },
    computeId: null,
    now: new Date(Date.UTC(2025, 0, 1, 0, 0, 0, i)).toISOString(),
  };
}

test('writes accepted before close are all committed, across several batches', async () => {
  const path = join(dir, 'close.db');
  const store = await SqliteStore.open({ path, entityTables: TABLES });
  const first = Array.from({ length: 200 }, (_, i) => store.writeCategory(write(i)));
  await new Promise((resolve) => setImmediate(resolve)); // the first batch is now at the writer
  const second = Array.from({ length: 200 }, (_, i) => store.writeCategory(write(200 + i)));
  const closed = store.close();
  const metas = await Promise.all([...first, ...second]);
  await closed;
  assert.equal(metas.length, 400);
  await assert.rejects(store.writeCategory(write(999)), { code: 'STORE_UNAVAILABLE' });

  const reopened = await SqliteStore.open({ path, entityTables: TABLES });
  try {
    for (const i of [0, 199, 200, 399]) {
      assert.deepEqual((await reopened.getCategory('bright_uid', `user-${i}`, 'd0_unauth_features'))?.data, { i });
    }
    const all = await Promise.all(
      Array.from({ length: 400 }, (_, i) => reopened.getCategory('bright_uid', `user-${i}`, 'd0_unauth_features')),
    );
    assert.equal(all.filter((r) => r !== undefined).length, 400);
  } finally {
    await reopened.close();
  }
});

test('a write for an entity type that is not configured is refused without harming the batch', async () => {
  const store = await SqliteStore.open({ path: join(dir, 'bad.db'), entityTables: TABLES });
  try {
    const good = store.writeCategory(write(1));
    await assert.rejects(store.writeCategory({ ...write(2), entityType: 'planet' }));
    await good;
    assert.ok(await store.getCategory('bright_uid', 'user-1', 'd0_unauth_features'));
  } finally {
    await store.close();
  }
});
