import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMetrics } from '../../src/metrics.js';
import { BACKENDS } from '../support/backends.js';
import { startService } from '../support/service.js';

/**
 * Problems of a Prometheus text exposition: a sample that is not a finite number, or a duration
 * (`*_seconds`, timestamps aside) that no real process could have measured.
 */
function garbage(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .filter((line) => {
      const [series = '', raw = ''] = line.split(/ (?=\S+$)/);
      const value = Number(raw);
      if (!Number.isFinite(value)) return true;
      const name = series.replace(/\{.*$/, '');
      return name.endsWith('_seconds') && !name.includes('start_time') && value > 1e6;
    });
}

describe('metrics exposition', () => {
  test('the very first scrape of a fresh registry, and an immediate second one, hold only real numbers', async () => {
    const metrics = createMetrics();
    const first = await metrics.registry.metrics();
    const second = await metrics.registry.metrics();
    assert.match(first, /^feature_store_nodejs_eventloop_lag_min_seconds /m, 'the event-loop delay gauges are exposed');
    assert.deepEqual(garbage(first), []);
    assert.deepEqual(garbage(second), []);
  });

  for (const backend of BACKENDS) {
    test(`GET /metrics right after start holds only real numbers (${backend.name})`, async () => {
      const instance = await backend.setup();
      const runtime = await startService(instance);
      try {
        const res = await fetch(`${runtime.url}/metrics`);
        assert.equal(res.status, 200);
        const text = await res.text();
        assert.deepEqual(garbage(text), []);
        assert.deepEqual(garbage(await (await fetch(`${runtime.url}/metrics`)).text()), []);
      } finally {
        await runtime.close();
        await instance.teardown();
      }
    });
  }
});
