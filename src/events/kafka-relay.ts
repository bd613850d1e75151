import type { Config, KafkaConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OutboxStore } from '../store/ports.js';
import { OutboxRelay } from './outbox-relay.js';
import { createThreadKafkaPublisher } from './publisher-thread.js';

/**
 * The relay from `outbox` to the configured Kafka topic (not started). The relay runs on this
 * thread, the Kafka client on a worker thread of its own (publisher-thread.ts).
 */
export function createKafkaRelay(
  kafka: KafkaConfig,
  config: Pick<Config, 'outbox' | 'shutdownTimeoutMs'>,
  deps: { outbox: OutboxStore; metrics: Metrics; logger: Logger },
): OutboxRelay {
  return new OutboxRelay({
    ...deps,
    publisher: createThreadKafkaPublisher(kafka, deps.logger),
    options: {
      ...config.outbox,
      // Leave the rest of the shutdown budget to the HTTP server and the store.
      stopTimeoutMs: Math.min(5_000, Math.floor(config.shutdownTimeoutMs / 2)),
    },
  });
}
