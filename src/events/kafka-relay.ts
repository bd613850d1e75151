import type { Config, KafkaConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OutboxStore } from '../store/ports.js';
import { createKafkaPublisher } from './kafka-publisher.js';
import { OutboxRelay } from './outbox-relay.js';

/** The relay from `outbox` to the configured Kafka topic (not started). */
export function createKafkaRelay(
  kafka: KafkaConfig,
  config: Pick<Config, 'outbox' | 'shutdownTimeoutMs'>,
  deps: { outbox: OutboxStore; metrics: Metrics; logger: Logger },
): OutboxRelay {
  return new OutboxRelay({
    ...deps,
    publisher: createKafkaPublisher(kafka, deps.logger),
    options: {
      ...config.outbox,
      // Leave the rest of the shutdown budget to the HTTP server and the store.
      stopTimeoutMs: Math.min(5_000, Math.floor(config.shutdownTimeoutMs / 2)),
    },
  });
}
