import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventPublisher } from '../../src/events/event-publisher.js';
import { OutboxRelay } from '../../src/events/outbox-relay.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import type { OutboxEvent } from '../../src/model.js';
import type { OutboxStore } from '../../src/store/ports.js';
import { outboxEvent } from '../support/fixtures.js';

/**
 * An outbox fed at `perMs` events per millisecond: a claim returns what arrived since the
 * previous one (up to `limit`), and records when it ran and how many it returned.
 */
function steadyOutbox(perMs: number) {
  const claims: { at: number; events: number }[] = [];
  let last = performance.now();
  const outbox: OutboxStore = {
    async claim(_owner, limit) {
      const at = performance.now();
      const n = Math.min(limit, Math.floor((at - last) * perMs));
      last = at;
      claims.push({ at, events: n });
      return Array.from({ length: n }, (_, i): OutboxEvent => outboxEvent(`user-${i}`));
    },
    async complete() {},
    async release() {},
    async stats() {
      return { pending: 0, oldestCreatedAt: null };
    },
  };
  return { outbox, claims };
}

const publisher: EventPublisher = { publish: async () => {}, probe: async () => {}, close: async () => {} };

test('under sustained load the relay lingers longer between rounds, up to maxLingerMs, so rounds carry more events', async () => {
  const { outbox, claims } = steadyOutbox(5);
  const relay = new OutboxRelay({
    outbox,
    publisher,
    metrics: createMetrics({ processMetrics: false }),
    logger: createLogger('silent'),
    options: { batchSize: 10_000, pollIntervalMs: 200, leaseMs: 30_000, lingerMs: 10, maxLingerMs: 50 },
  });
  // Writes keep arriving: every write notifies the relay.
  const writes = setInterval(() => relay.notify(), 1);
  relay.start();
  try {
    while (claims.length < 12) await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    clearInterval(writes);
    await relay.stop();
  }
  const gaps = claims.slice(1).map((c, i) => c.at - (claims[i] as { at: number }).at);
  const late = gaps.slice(-5).sort((a, b) => a - b);
  // With a fixed 10 ms linger the rounds would follow each other every ~10 ms.
  assert.ok((late[2] as number) >= 45, `rounds under load are at least the longest linger apart: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
  const sizes = claims.map((c) => c.events);
  assert.ok(Math.max(...sizes.slice(-5)) > Math.max(...sizes.slice(1, 3)), `rounds grew: ${sizes.join(', ')}`);
});
