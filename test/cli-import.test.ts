import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Runtime } from '../src/server.js';
import type { BackendInstance } from './support/backend.js';
import { CLI, ROOT } from './support/cli-process.js';
import { tempDir } from './support/kafka-service.js';
import { sqliteBackend } from './support/sqlite-backend.js';
import { client, startService } from './support/service.js';

/**
 * `feature-store import` and `export` against a real service on SQLite, as a user runs them:
 * counts, the rejects file, exit statuses, --skip, CSV typing, and export | import round trips.
 */
const D0 = 'd0_unauth_features';

function run(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file, ...cliArgs] = CLI;
  const child = spawn(file, [...cliArgs, ...args], { cwd: ROOT, env: { ...process.env, FEATURE_STORE_API_KEY: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

const line = (entityValue: string, features: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ entity_type: 'bright_uid', entity_value: entityValue, category: D0, features, ...extra });

describe('feature-store import / export', () => {
  const dir = tempDir('feature-store-import-');
  let instances: BackendInstance[];
  let source: Runtime;
  let target: Runtime;
  const read = async (runtime: Runtime, entityValue: string) =>
    client(runtime.url).get(`/api/v1/get/item/${encodeURIComponent(entityValue)}/${D0}?entity_type=bright_uid`);

  before(async () => {
    instances = [await sqliteBackend.setup(), await sqliteBackend.setup()];
    source = await startService(instances[0] as BackendInstance);
    target = await startService(instances[1] as BackendInstance);
  });
  after(async () => {
    await source.close();
    await target.close();
    for (const i of instances) await i.teardown();
    dir.remove();
  });

  test('JSONL: good records imported, bad ones in the rejects file with line and reason, exit 1', async () => {
    const file = `${dir.path}/records.jsonl`;
    writeFileSync(
      file,
      [
        line('j-1', { score: 1 }, { compute_id: 'job-j' }),
        '',
        line('j-2', { score: 2, nested: { a: [1, 2] } }, { event_time: '2025-10-16T12:00:00+02:00' }),
        '{not json',
        JSON.stringify({ entity_type: 'bright_uid', entity_value: 'j-3', category: 'nope', features: { v: 1 } }),
        line('j-4', { score: 4 }),
        JSON.stringify({ entity_type: 'bright_uid', entity_value: 'j-5', category: D0 }),
      ].join('\n') + '\n',
    );
    const res = await run(['import', file, '--url', source.url]);
    assert.equal(res.code, 1, res.stderr);
    assert.equal(res.stdout, 'imported 3 records, 3 failed\n');
    assert.match(res.stderr, /records\.jsonl\.rejects\.jsonl/);
    const rejects = readFileSync(`${file}.rejects.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; reason: string; input: string });
    rejects.sort((a, b) => a.line - b.line);
    assert.deepEqual(rejects.map((r) => r.line), [4, 5, 7]);
    assert.match(rejects[0]?.reason ?? '', /^not JSON/);
    assert.equal(rejects[0]?.input, '{not json');
    assert.match(rejects[1]?.reason ?? '', /^400 CATEGORY_NOT_ALLOWED: Category 'nope' is not allowed/);
    assert.equal(rejects[2]?.reason, '"features" must be an object');

    const j2 = (await read(source, 'j-2')).json as { features: { data: unknown; meta: { event_time: string } } };
    assert.deepEqual(j2.features.data, { score: 2, nested: { a: [1, 2] } });
    assert.equal(j2.features.meta.event_time, '2025-10-16T10:00:00.000Z');
    const j1 = (await read(source, 'j-1')).json as { features: { meta: { compute_id: string } } };
    assert.equal(j1.features.meta.compute_id, 'job-j');
  });

  test('--skip N resumes after the first N records; all imported → exit 0', async () => {
    const file = `${dir.path}/skip.jsonl`;
    writeFileSync(file, ['s-1', 's-2', 's-3', 's-4', 's-5'].map((v) => line(v, { v })).join('\n'));
    const res = await run(['import', file, '--url', source.url, '--skip', '3', '--concurrency', '2']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'imported 2 records, 0 failed (3 skipped)\n');
    assert.deepEqual(await Promise.all(['s-1', 's-2', 's-3', 's-4', 's-5'].map(async (v) => (await read(source, v)).status)), [404, 404, 404, 200, 200]);
  });

  test('CSV: typed cells, quoted fields with commas, quotes and line breaks; empty cells leave the feature out', async () => {
    const file = `${dir.path}/records.csv`;
    writeFileSync(
      file,
      [
        'entity_type,entity_value,category,compute_id,score,flag,tags,note,missing,as_text',
        `bright_uid,c-1,${D0},job-c,0.35,true,"[""a"",""b""]","hello, ""world""",null,"""42"""`,
        `bright_uid,c-2,${D0},,-12e3,false,"{""k"":1}","two\r\nlines",,plain text`,
        `bright_uid,c-3,${D0},job-c,1,true,[bad,x,,y`,
        `bright_uid,c-4,${D0},job-c,1,true`,
      ].join('\r\n') + '\r\n',
    );
    const res = await run(['import', file, '--url', source.url]);
    assert.equal(res.code, 1, res.stderr);
    assert.equal(res.stdout, 'imported 2 records, 2 failed\n');
    const c1 = (await read(source, 'c-1')).json as { features: { data: unknown; meta: { compute_id: string | null } } };
    assert.deepEqual(c1.features.data, { score: 0.35, flag: true, tags: ['a', 'b'], note: 'hello, "world"', missing: null, as_text: '42' });
    assert.equal(c1.features.meta.compute_id, 'job-c');
    const c2 = (await read(source, 'c-2')).json as { features: { data: unknown; meta: { compute_id: string | null } } };
    assert.deepEqual(c2.features.data, { score: -12000, flag: false, tags: { k: 1 }, note: 'two\r\nlines', as_text: 'plain text' });
    assert.equal(c2.features.meta.compute_id, null);
    const rejects = readFileSync(`${file}.rejects.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; reason: string; input: string[] });
    rejects.sort((a, b) => a.line - b.line);
    // c-2's note spans two lines, so c-3 starts on line 5.
    assert.deepEqual(rejects.map((r) => r.line), [5, 6]);
    assert.match(rejects[0]?.reason ?? '', /^a cell starting with \[ must be JSON/);
    assert.equal(rejects[0]?.input[1], 'c-3');
    assert.equal(rejects[1]?.reason, '6 fields, the header has 10');
  });

  test('a CSV without the required columns is refused before any record is sent', async () => {
    const file = `${dir.path}/bad-header.csv`;
    writeFileSync(file, 'entity_value,category,score\nx,d0_unauth_features,1\n');
    const res = await run(['import', file, '--url', source.url]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /header: the column "entity_type" is missing/);
  });

  test('export | import round-trips; --compute-id exports what that job wrote', async () => {
    const all = await run(['export', '--entity-type', 'bright_uid', '--category', D0, '--url', source.url]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split('\n');
    assert.equal(lines.length, 7); // j-1, j-2, j-4, s-4, s-5, c-1, c-2
    assert.match(all.stderr, /exported 7 records/);

    const imported = await run(['import', '-', '--url', target.url, '--rejects', `${dir.path}/stdin-rejects.jsonl`], all.stdout);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stdout, 'imported 7 records, 0 failed\n');
    const again = await run(['export', '--entity-type', 'bright_uid', '--category', D0, '--url', target.url]);
    assert.deepEqual(again.stdout.trim().split('\n').sort(), [...lines].sort());
    for (const v of ['j-2', 'c-1']) {
      const [a, b] = [(await read(source, v)).json, (await read(target, v)).json] as { features: { data: unknown; meta: Record<string, unknown> } }[];
      assert.deepEqual(b?.features.data, a?.features.data);
      assert.equal(b?.features.meta.compute_id, a?.features.meta.compute_id);
      assert.equal(b?.features.meta.event_time, a?.features.meta.event_time);
    }

    const job = await run(['export', '--entity-type', 'bright_uid', '--category', D0, '--compute-id', 'job-c', '--url', source.url]);
    assert.equal(job.code, 0, job.stderr);
    assert.deepEqual(job.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { entity_value: string }).entity_value), ['c-1']);
  });

  test('a service that cannot be reached stops the import with the point to resume from', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const address = srv.address();
        srv.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const file = `${dir.path}/unreachable.jsonl`;
    writeFileSync(file, line('u-1', { v: 1 }));
    const res = await run(['import', file, '--url', `http://127.0.0.1:${port}`]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /stopped: fetch failed \(.*ECONNREFUSED.*\); resume with --skip 0/);
    assert.equal(res.stdout, 'imported 0 records, 0 failed\n');
  });

  test('usage errors exit 2', async () => {
    const res = await run(['import', '--url', source.url]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /import takes one FILE/);
    const exp = await run(['export', '--category', D0]);
    assert.equal(exp.code, 2);
    assert.match(exp.stderr, /export needs --entity-type and --category/);
  });
});
