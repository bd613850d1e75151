import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../../src/errors.js';
import type { OutboxEvent } from '../../src/model.js';
import { Checkpointer } from '../../src/store/sqlite/checkpointer.js';
import { SqliteComputeJobs } from '../../src/store/sqlite/compute-jobs.js';
import { guardFor } from '../../src/store/sqlite/errors.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { SqliteOutbox } from '../../src/store/sqlite/outbox.js';
import { ThreadOutbox } from '../../src/store/sqlite/outbox-thread.js';
import { outboxEvent } from '../support/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-outbox-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TABLES = { bright_uid: 'user_feature_store' };

function write(n: number) {
  const base = outboxEvent(`e${n}`, { timestamp: `2025-10-16T10:00:${String(n % 60).padStart(2, '0')}.000Z` });
  const event: OutboxEvent = { ...base, event: { ...base.event, compute_id: `job-${n % 3}` } };
  return { key: { entityType: 'bright_uid', entityValue: `e${n}`, category: 'd0_unauth_features' }, data: { n }, computeId: `job-${n % 3}`, now: event.event.timestamp, event };
}

/** Claims and completes until nothing is left; the ids it published. */
async function relay(store: SqliteStore, owner: string): Promise<string[]> {
  const published: string[] = [];
  for (;;) {
    const batch = await store.outbox.claim(owner, 7, 30_000);
    if (batch.length === 0) return published;
    published.push(...batch.map((e) => e.id));
    await store.outbox.complete(batch.map((e) => e.id));
    // A pause between rounds, as the relay's linger: SQLite's busy handler polls, and a relay
    // that never lets go of the write lock would keep the other waiting until it is done.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

test('two stores (two bookkeeping threads) relaying one file at once publish every event once and count each once', async () => {
  const path = join(dir, 'two.db');
  const a = await SqliteStore.open({ path, entityTables: TABLES });
  const b = await SqliteStore.open({ path, entityTables: TABLES });
  try {
    const writes = Array.from({ length: 300 }, (_, n) => write(n));
    await Promise.all(writes.map((w, n) => (n % 2 === 0 ? a : b).writeRecord(w)));
    // Both threads started (a thread's start from the sources takes a while), so both relay.
    await Promise.all([a.outbox.stats(), b.outbox.stats()]);
    const [byA, byB] = await Promise.all([relay(a, 'relay-a'), relay(b, 'relay-b')]);
    const all = [...byA, ...byB];
    assert.equal(new Set(all).size, all.length, 'no event published twice');
    assert.deepEqual(new Set(all), new Set(writes.map((w) => w.event.id)));
    assert.ok(byA.length > 0 && byB.length > 0, `both relays took part (${byA.length} / ${byB.length})`);
    assert.equal((await a.outbox.stats()).pending, 0);
    const jobs = await Promise.all(['job-0', 'job-1', 'job-2'].map((id) => b.computeJobs.get(id)));
    assert.deepEqual(
      jobs.map((j) => j?.writes),
      [100, 100, 100],
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('claimed events come back from the thread with their stored text, in write order', async () => {
  const store = await SqliteStore.open({ path: join(dir, 'order.db'), entityTables: TABLES });
  try {
    const writes = Array.from({ length: 20 }, (_, n) => write(n));
    for (const w of writes) await store.writeRecord(w);
    const claimed = await store.outbox.claim('relay', 100, 30_000);
    assert.deepEqual(claimed.map((e) => e.id), writes.map((w) => w.event.id));
    assert.deepEqual(claimed.map((e) => ({ id: e.id, key: e.key, event: e.event })), writes.map((w) => w.event));
    await store.outbox.release(claimed.map((e) => e.id));
    assert.equal((await store.outbox.claim('other', 100, 30_000)).length, 20, 'released events can be claimed again');
  } finally {
    await store.close();
  }
});

test('with the bookkeeping thread gone, the outbox runs on the store\'s connection: events the thread claimed are completed there, counted once', async () => {
  const path = join(dir, 'gone.db');
  const store = await SqliteStore.open({ path, entityTables: TABLES });
  const db = new Database(path);
  try {
    const writes = Array.from({ length: 9 }, (_, n) => write(n));
    for (const w of writes) await store.writeRecord(w);
    // Claimed on the store's thread, as the relay does before the thread goes.
    const claimed = await store.outbox.claim('relay', 5, 30_000);
    assert.equal(claimed.length, 5);

    // A thread of its own on the same file, ended: what `ThreadOutbox` sees after a crash.
    const thread = new Checkpointer(db, path, 60_000);
    await thread.close();
    assert.equal(thread.available, false, 'an ended thread takes no requests');
    await assert.rejects(thread.request({ op: 'stats' }), StoreUnavailableError);
    const guard = guardFor(db);
    const outbox = new ThreadOutbox(thread, new SqliteOutbox(db, true, guard, new SqliteComputeJobs(db, guard)));

    await outbox.complete(claimed.map((e) => e.id));
    await outbox.complete(claimed.map((e) => e.id)); // a retried complete changes nothing
    const rest = await outbox.claim('relay', 100, 30_000);
    assert.deepEqual(rest.map((e) => e.id), writes.slice(5).map((w) => w.event.id), 'the others are claimed on the store\'s connection');
    await outbox.release(rest.map((e) => e.id));
    assert.equal((await outbox.stats()).pending, 4, 'released events stay pending');
    const again = await outbox.claim('relay', 100, 30_000);
    await outbox.complete(again.map((e) => e.id));
    assert.equal((await outbox.stats()).pending, 0);
    const jobs = await Promise.all(['job-0', 'job-1', 'job-2'].map((id) => store.computeJobs.get(id)));
    assert.deepEqual(jobs.map((j) => j?.writes), [3, 3, 3], 'every event counted once');
  } finally {
    db.close();
    await store.close();
  }
});
