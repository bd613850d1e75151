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
      // Timed as the store's `get`, once per batch (instrumented-store.ts), as the record path is.
      const gets = async () => {
        const sample = (await runtime.metrics.storeDuration.get()).values.find((v) => {
          const labels: Record<string, unknown> = v.labels;
          return v.metricName?.endsWith('_count') === true && labels.operation === 'get' && labels.outcome === 'ok';
        });
        return sample?.value ?? 0;
      };
      const before = await gets();
      const res = await fetch(`${runtime.url}/api/v1/get/items/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ meta: { source: 'test' }, data: { entity_type: 'bright_uid', entity_values: ['a', 'b'], feature_list: ['d0_unauth_features:*'] } }),
      });
      assert.equal(res.status, 200, await res.text());
      assert.equal((await gets()) - before, 1, `${label}: one timed store read per batch`);
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
