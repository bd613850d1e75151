import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { OutboxEvent } from '../../src/model.js';
import { Checkpointer } from '../../src/store/sqlite/checkpointer.js';
import { guardFor } from '../../src/store/sqlite/errors.js';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { openDatabase } from '../../src/store/sqlite/schema.js';
import { WriteTurns } from '../../src/store/sqlite/write-turns.js';
import { startWorker } from '../../src/worker-thread.js';
import { outboxEvent } from '../support/fixtures.js';
import type { TurnHolderData } from './fixtures/turn-holder-worker.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-write-turns-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TABLES = { bright_uid: 'user_feature_store' };

/** A file with a `log` table (rows in commit order) and the store's connection to it. */
function logFile(name: string): { path: string; db: Database.Database } {
  const path = join(dir, name);
  const db = openDatabase(path, 'full');
  db.exec('CREATE TABLE log (n INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT NOT NULL)');
  return { path, db };
}

/** Starts the stand-in thread; resolves once it holds its turn and SQLite's write lock. */
async function holder(data: TurnHolderData): Promise<{ worker: Worker; exited: Promise<void> }> {
  const worker = startWorker(new URL('./fixtures/turn-holder-worker.ts', import.meta.url), data, {});
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m) => m === 'holding' && resolve());
  });
  return { worker, exited };
}

const turn = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('the turns exclude each other: the store cannot take a turn the thread holds, and the thread waits for the store\'s', async () => {
  const turns = new WriteTurns();
  assert.equal(turns.takeForStore(), true);
  assert.equal(turns.takeForStore(), false, 'one store turn at a time');
  turns.releaseStore();
  const inside = turns.inThread(() => turns.takeForStore());
  assert.equal(inside, false, 'the store cannot take the thread\'s turn');
  assert.equal(turns.takeForStore(), true, 'the thread\'s turn ended with its function');
  turns.releaseThread(); // not the thread's: changes nothing
  assert.equal(turns.takeForStore(), false);
  turns.releaseStore();
  assert.equal(await turns.whenFree(10_000), true, 'free at once when the thread holds nothing');
});

test('while the thread holds its turn and the write lock, a group commit waits on the event loop (no busy sleep) and commits after the thread', async () => {
  const { path, db } = logFile('wait.db');
  const turns = new WriteTurns();
  const release = new Int32Array(new SharedArrayBuffer(4));
  // No bound on the wait here: forced, the commit would wait in the busy handler for a thread
  // that waits for this test.
  const commits = new GroupCommit(db, guardFor(db), turns, 600_000);
  const insert = db.prepare("INSERT INTO log (who) VALUES ('store')");
  try {
    const thread = await holder({ path, turns: turns.buffer, release: release.buffer });
    let committed = false;
    const first = commits.enqueue(() => insert.run()).then(() => (committed = true));
    // Timers keep firing while the batch waits: the event loop is not asleep in the busy handler.
    // (Blocked in SQLite's busy handler, the commit would come first: every timer below would
    // see it done.)
    const seen: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      await turn(20);
      seen.push(committed);
    }
    assert.deepEqual(seen, [false, false, false], 'the event loop ran while the thread held its turn');
    const second = commits.enqueue(() => insert.run()); // joins the waiting batch
    Atomics.store(release, 0, 1);
    Atomics.notify(release, 0);
    await Promise.all([first, second]);
    await thread.exited;
    const rows = db.prepare('SELECT who FROM log ORDER BY n').all() as { who: string }[];
    assert.deepEqual(rows.map((r) => r.who), ['thread', 'store', 'store'], 'the store committed after the thread, both writes at once');
  } finally {
    commits.close();
    db.close();
  }
});

test('a thread that died inside its turn: the store\'s commits go on (after the wait\'s bound, then once the turn is ended for it)', async () => {
  const { path, db } = logFile('die.db');
  const turns = new WriteTurns();
  const release = new Int32Array(new SharedArrayBuffer(4));
  const commits = new GroupCommit(db, guardFor(db), turns, 20);
  const insert = db.prepare("INSERT INTO log (who) VALUES ('store')");
  try {
    const thread = await holder({ path, turns: turns.buffer, release: release.buffer, die: true });
    await thread.exited; // its connection closed with it: the transaction rolled back
    assert.equal(turns.takeForStore(), false, 'the dead thread still holds its turn');
    await commits.enqueue(() => insert.run()); // waits for the bound, then commits without a turn
    // What the store does when its bookkeeping thread ends: the turn is ended for it.
    const checkpointer = new Checkpointer(db, path, 60_000, turns);
    await checkpointer.close();
    assert.equal(turns.takeForStore(), true, 'the turn is free once the thread is known gone');
    turns.releaseStore();
    await commits.enqueue(() => insert.run());
    const rows = db.prepare('SELECT who FROM log ORDER BY n').all() as { who: string }[];
    assert.deepEqual(rows.map((r) => r.who), ['store', 'store'], 'the dead thread\'s insert was never committed');
  } finally {
    commits.close();
    db.close();
  }
});

test('writes and the relay\'s bookkeeping at once, taking turns: every event claimed and completed once, each counted once', async () => {
  const store = await SqliteStore.open({ path: join(dir, 'relay.db'), entityTables: TABLES });
  try {
    await store.outbox.stats(); // the thread has started
    const ids: string[] = [];
    const published: string[] = [];
    let writing = true;
    const relay = (async () => {
      for (;;) {
        const batch = await store.outbox.claim('relay', 50, 30_000);
        published.push(...batch.map((e) => e.id));
        if (batch.length > 0) await store.outbox.complete(batch.map((e) => e.id));
        else if (!writing) return;
        else await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let wave = 0; wave < 20; wave++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const n = wave * 50 + i;
          const base = outboxEvent(`e${n}`, { timestamp: `2025-10-16T10:00:00.000Z` });
          const event: OutboxEvent = { ...base, event: { ...base.event, compute_id: `job-${n % 4}` } };
          ids.push(event.id);
          return store.writeRecord({ key: { entityType: 'bright_uid', entityValue: `e${n}`, category: 'd0_unauth_features' }, data: { n }, computeId: `job-${n % 4}`, now: event.event.timestamp, event });
        }),
      );
    }
    writing = false;
    await relay;
    assert.equal(new Set(published).size, published.length, 'no event claimed twice');
    assert.deepEqual([...published].sort(), [...ids].sort(), 'every written event was claimed');
    assert.equal((await store.outbox.stats()).pending, 0);
    const jobs = await Promise.all(['job-0', 'job-1', 'job-2', 'job-3'].map((id) => store.computeJobs.get(id)));
    assert.deepEqual(jobs.map((j) => j?.writes), [250, 250, 250, 250]);
  } finally {
    await store.close();
  }
});
