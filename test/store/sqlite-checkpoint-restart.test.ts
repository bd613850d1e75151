import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { Checkpointer } from '../../src/store/sqlite/checkpointer.js';
import { openDatabase } from '../../src/store/sqlite/schema.js';
import { WriteTurns } from '../../src/store/sqlite/write-turns.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-checkpoint-restart-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The WAL header's first salt: SQLite draws a new one each time the WAL starts over. */
function walSalt(path: string): number {
  const fd = openSync(`${path}-wal`, 'r');
  try {
    const header = Buffer.alloc(32);
    return readSync(fd, header, 0, 32, 0) === 32 ? header.readUInt32BE(16) : -1;
  } finally {
    closeSync(fd);
  }
}

test('under steady writes the WAL starts over through the worker alone, the store\'s connection copying nothing', async () => {
  const path = join(dir, 'restart.db');
  const db = openDatabase(path, 'normal');
  db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const insert = db.prepare('INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)');
  const commit = db.transaction((from: number) => {
    for (let i = 0; i < 100; i++) insert.run(((from + i) * 7919) % 50_000, 'x'.repeat(500));
  });
  const turns = new WriteTurns();
  const checkpointer = new Checkpointer(db, path, 50, turns);
  const salts = new Set<number>();
  try {
    // Commits of 100 rows back to back without yielding to the event loop (the worker runs
    // beside it), each in the store's turn as the group commit takes it, with a pause of 0.1 ms
    // between them, as a busy event loop leaves while it reads and answers requests; the store's
    // connection never checkpoints. Until the WAL started over four times, or 10 s (the thread's
    // start from the sources, under tsx, takes a while).
    await turn();
    const until = Date.now() + 10_000;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let n = 0; Date.now() < until && salts.size < 5; n += 100) {
      if (turns.takeForStore()) {
        try {
          commit(n);
        } finally {
          turns.releaseStore();
        }
      }
      salts.add(walSalt(path));
      Atomics.wait(pause, 0, 0, 0.1);
    }
  } finally {
    await checkpointer.close();
    db.close();
  }
  assert.ok(salts.size >= 4, `the WAL started over ${salts.size - 1} times in 10 s with a 50 ms checkpoint interval`);
});
