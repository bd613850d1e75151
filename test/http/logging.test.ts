import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { startServer } from '../../src/server.js';
import { testConfig } from '../support/backend.js';
import { client } from '../support/service.js';
import { sqliteBackend } from '../support/sqlite-backend.js';

test('error logs carry the request id; responses carry no internals', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const instance = await sqliteBackend.setup();
  const runtime = await startServer(testConfig(instance), { logger: createLogger('info', sink) });
  try {
    await runtime.store.close();
    const res = await client(runtime.url).get('/api/v1/get/item/u/d0_unauth_features', { 'x-request-id': 'req-log-1' });
    assert.equal(res.status, 503);
    assert.equal(res.text, '{"detail":"Feature store is temporarily unavailable","code":"STORE_UNAVAILABLE"}');
    const logged = lines.find((l) => l.reqId === 'req-log-1');
    assert.ok(logged, 'the error is logged with the request id');
    assert.equal(logged.level, 50);
    assert.equal(lines.filter((l) => l.msg === 'request completed').length, 0, 'no per-request lines at info');
  } finally {
    await runtime.close();
    await instance.teardown();
  }
});
