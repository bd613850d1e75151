import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from '../../src/server.js';
import { testConfig } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { sqliteBackend } from '../support/sqlite-backend.js';
import { kafkaBrokers } from '../support/kafka-broker.js';

/**
 * The fast path answers SQLite reads on the calling thread only if every store wrapper the
 * server puts around the backend passes the synchronous reads on (delegate.ts `readsNowOf`), and
 * batch reads as stored text only if they pass `getStoredNow` on too; a wrapper that dropped
 * either would leave reads on a slower path unnoticed.
 */
test('the server offers synchronous reads on SQLite, with events off and on, and on no other backend', async () => {
  const withEvents: Record<string, string>[] = [{}, { KAFKA_BROKERS: await kafkaBrokers() }];
  for (const events of withEvents) {
    const instance = await sqliteBackend.setup();
    const runtime = await startServer(testConfig(instance, events));
    try {
      const label = `SQLite with ${'KAFKA_BROKERS' in events ? 'events on' : 'events off'}`;
      assert.ok(runtime.service.readsNow !== undefined, label);
      assert.ok(runtime.service.readsNow.readFeaturesBatchText !== undefined, `${label}: the batch read as stored text`);
    } finally {
      await runtime.close();
      await instance.teardown();
    }
  }
  for (const backend of BACKENDS.filter((b) => b.type !== 'sqlite')) {
    const instance = await backend.setup();
    const runtime = await startServer(testConfig(instance));
    try {
      assert.equal(runtime.service.readsNow, undefined, backend.name);
    } finally {
      await runtime.close();
      await instance.teardown();
    }
  }
});
