import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { Checkpointer } from '../../src/store/sqlite/checkpointer.js';
import { openDatabase } from '../../src/store/sqlite/schema.js';

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

test('under steady writes the WAL starts over after the worker checkpoints, through the tail copied after a commit', async () => {
  const path = join(dir, 'restart.db');
  const db = openDatabase(path, 'normal');
  db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const insert = db.prepare('INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)');
  const commit = db.transaction((from: number) => {
    for (let i = 0; i < 100; i++) insert.run(((from + i) * 7919) % 50_000, 'x'.repeat(500));
  });
  const checkpointer = new Checkpointer(db, path, 50);
  const salts = new Set<number>();
  try {
    // Commits of 100 rows back to back, as under load: the worker's checkpoints do not end with the
    // WAL empty. Until the WAL started over four times, or 10 s (the thread's start from the
    // sources, under tsx, takes a while).
    const until = Date.now() + 10_000;
    for (let n = 0; Date.now() < until && salts.size < 5; n += 100) {
      commit(n);
      checkpointer.afterCommit();
      salts.add(walSalt(path));
      await turn();
    }
  } finally {
    await checkpointer.close();
    db.close();
  }
  assert.ok(salts.size >= 4, `the WAL started over ${salts.size - 1} times in 10 s with a 50 ms checkpoint interval`);
});
