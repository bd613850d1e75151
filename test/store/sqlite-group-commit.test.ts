import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-group-commit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TABLES = { bright_uid: 'user_feature_store' };

function key(i: number, entityType = 'bright_uid') {
  return { entityType, entityValue: `user-${i}`, category: 'd0_unauth_features' };
}

function write(i: number) {
  return {
    key: key(i),
    data: { i },
    computeId: null,
    now: new Date(Date.UTC(2025, 0, 1, 0, 0, 0, i)).toISOString(),
  };
}

test('writes accepted before close are all committed, across several batches', async () => {
  const path = join(dir, 'close.db');
  const store = await SqliteStore.open({ path, entityTables: TABLES });
  const first = Array.from({ length: 200 }, (_, i) => store.writeRecord(write(i)));
  await new Promise((resolve) => setImmediate(resolve)); // the first batch is now at the writer
  const second = Array.from({ length: 200 }, (_, i) => store.writeRecord(write(200 + i)));
  const closed = store.close();
  const metas = await Promise.all([...first, ...second]);
  await closed;
  assert.equal(metas.length, 400);
  await assert.rejects(store.writeRecord(write(999)), { code: 'STORE_UNAVAILABLE' });

  const reopened = await SqliteStore.open({ path, entityTables: TABLES });
  try {
    for (const i of [0, 199, 200, 399]) {
      assert.deepEqual((await reopened.getRecords([key(i)]))[0]?.data, { i });
    }
    const all = await reopened.getRecords(Array.from({ length: 400 }, (_, i) => key(i)));
    assert.equal(all.filter((r) => r !== undefined).length, 400);
  } finally {
    await reopened.close();
  }
});

test('a write for an entity type that is not configured is refused without harming the batch', async () => {
  const store = await SqliteStore.open({ path: join(dir, 'bad.db'), entityTables: TABLES });
  try {
    const good = store.writeRecord(write(1));
    await assert.rejects(store.writeRecord({ ...write(2), key: key(2, 'planet') }));
    await good;
    assert.ok((await store.getRecords([key(1)]))[0], '(await store.getRecords([key(1)]))[0]');
  } finally {
    await store.close();
  }
});
