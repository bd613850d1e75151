import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import type { OutboxEvent } from '../../src/model.js';
import { createFeatureService } from '../../src/service/feature-service.js';
import type { FeatureStore } from '../../src/store/ports.js';
import type { Clock } from '../../src/timestamps.js';
import { openStore, testConfig, type BackendInstance } from './backend.js';

/**
 * The HTTP service with change events on but no relay: every event the service records stays
 * in the outbox, where a test reads exactly what a request recorded (the relay and the broker
 * are exercised in test/events). Same app and service code as `startServer`.
 */
export interface OutboxService {
  url: string;
  store: FeatureStore;
  /** Claims and completes every pending event of the record key `<entity_type>:<entity_value>`, in write order. */
  takeEvents(messageKey: string): Promise<OutboxEvent[]>;
  close(): Promise<void>;
}

export async function startOutboxService(instance: BackendInstance, clock: Clock): Promise<OutboxService> {
  // Only makes the service record events; nothing connects to this address.
  const config = testConfig(instance, { KAFKA_BROKERS: '127.0.0.1:9' });
  const logger = createLogger('silent');
  const metrics = createMetrics({ processMetrics: false });
  const store = await openStore(instance, { KAFKA_BROKERS: '127.0.0.1:9' });
  const service = createFeatureService({ store, config, clock, metrics });
  let app: FastifyInstance;
  try {
    app = await buildApp({ config, service, metrics, logger });
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await store.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    async takeEvents(messageKey) {
      const mine: OutboxEvent[] = [];
      const others: OutboxEvent[] = [];
      for (;;) {
        const batch = await store.outbox.claim('test', 100, 60_000);
        if (batch.length === 0) break;
        for (const e of batch) (e.key === messageKey ? mine : others).push(e);
      }
      await store.outbox.complete(mine.map((e) => e.id));
      await store.outbox.release(others.map((e) => e.id));
      return mine;
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}
