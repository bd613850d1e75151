import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CLI, serveProcess } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const [node, ...cli] = CLI;
  return spawnSync(node, [...cli, ...args], {
    env: { ...process.env, KAFKA_BROKERS: '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('feature-store CLI', () => {
  test('--help describes the commands', () => {
    const res = run(['--help']);
    assert.equal(res.status, 0);
    assert.match(res.stdout, /Usage:/);
    assert.match(res.stdout, /serve/);
  });

  test('an unknown command fails with usage', () => {
    const res = run(['frobnicate']);
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /Unknown command 'frobnicate'/);
  });

  test('invalid configuration stops serve with a message naming the variable', () => {
    const res = run(['serve'], { PORT: 'not-a-port' });
    assert.equal(res.status, 2);
    assert.match(res.stderr, /Configuration error: PORT must be an integer/);
  });

  test('a store that cannot be opened stops serve with the reason', () => {
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, 'x');
    const res = run(['serve'], { SQLITE_PATH: join(file, 'features.db'), PORT: '0' });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /Cannot open SQLite database at .*not-a-directory.* \(Error: E(EXIST|NOTDIR): /);
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'this is not an SQLite file, it is long enough to have a header of one');
    assert.match(run(['serve'], { SQLITE_PATH: garbage, PORT: '0' }).stderr, /\(SqliteError: file is not a database\)/);
  });

  test('SIGTERM lets an in-flight request finish, closes the database and exits 0', async () => {
    const path = join(dir, 'shutdown.db');
    const { child, port, logs, exited } = await serveProcess([...CLI, 'serve'], { SQLITE_PATH: path });
    const body = JSON.stringify({
      meta: { source: 'prediction_service' },
      data: { entity_type: 'bright_uid', entity_value: 'in-flight', category: 'd0_unauth_features', features: { a: 1 } },
    });
    const response = new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/api/v1/items', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      // Half the body now, SIGTERM, the rest later: the request is in flight during shutdown.
      req.write(body.slice(0, 20));
      setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(20)), 300);
      }, 200);
    });
    assert.equal(await response, 200);
    assert.equal(await exited, 0, logs());
    assert.match(logs(), /shut down cleanly/);
    const db = new Database(path, { readonly: true });
    try {
      const row = db.prepare('SELECT data FROM user_feature_store WHERE entity_value = ?').get('in-flight') as { data: string } | undefined;
      assert.equal(row?.data, '{"a":1}');
    } finally {
      db.close();
    }
  });
});
