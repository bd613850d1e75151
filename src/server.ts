import type { FastifyInstance } from 'fastify';
import { KeyRing } from './auth/key-ring.js';
import type { Config } from './config.js';
import { createKafkaRelay } from './events/kafka-relay.js';
import { notifyOnEventWrite } from './events/notify-on-write.js';
import { buildApp } from './http/app.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createExpirySweeper } from './service/expiry-sweeper.js';
import { createRollbacks, type Rollbacks } from './service/rollback.js';
import { maxVersionsKept } from './config-sections.js';
import { createFeatureService, type FeatureService } from './service/feature-service.js';
import { recordJobWrites } from './service/job-stats-recorder.js';
import { createStatsd } from './statsd.js';
import { createStore } from './store/create-store.js';
import { legacyStatsdStore } from './store/legacy-statsd-store.js';
import type { FeatureStore } from './store/ports.js';
import { instrumentStore } from './store/instrumented-store.js';
import { systemClock, type Clock } from './timestamps.js';

/** Without events, how often the job statistics receive the writes counted in memory. */
const JOB_STATS_FLUSH_MS = 1_000;

export interface Runtime {
  config: Config;
  app: FastifyInstance;
  store: FeatureStore;
  service: FeatureService;
  /** Rollbacks of compute jobs run by this instance. */
  rollbacks: Rollbacks;
  metrics: Metrics;
  logger: Logger;
  /** Base URL the server listens on, e.g. `http://127.0.0.1:8015`. */
  url: string;
  /**
   * Stops accepting connections, finishes in-flight requests, stops the event relay (bounded),
   * then closes the store.
   */
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  clock?: Clock;
  logger?: Logger;
  /** A store to use instead of the one `config.store` selects (tests). */
  store?: FeatureStore;
  metrics?: Metrics;
  /** Whether this process runs the expiry sweeper (default true; `WORKERS` runs it in one worker). */
  expirySweeper?: boolean;
}

/**
 * Builds the object graph from configuration and listens. The CLI's `serve` and the tests
 * both start the service through here, with the same options.
 */
export async function startServer(config: Config, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = overrides.metrics ?? createMetrics();
  // Before anything is opened: a keys file that cannot be used stops start-up (serving open by
  // accident would be worse), and there is nothing to close yet.
  const keys = config.access.keysFile === undefined ? undefined : await KeyRing.load(config.access.keysFile, logger);
  const statsd = config.statsd === undefined ? undefined : createStatsd(config.statsd, logger);
  const openedStore = overrides.store ?? (await createStore(config, logger));
  // The old service's store metrics were DynamoDB's; they are sent for that backend only.
  const rawStore =
    statsd !== undefined && openedStore.type === 'dynamodb' ? legacyStatsdStore(openedStore, statsd, config) : openedStore;
  const instrumented = instrumentStore(rawStore, metrics);
  const relay =
    config.kafka === undefined
      ? undefined
      : createKafkaRelay(config.kafka, config, { outbox: instrumented.outbox, metrics, logger });
  // Writes only wake the relay; no request waits for Kafka. Without events, no relay counts the
  // writes in the job statistics as it publishes: the recorder does (job-stats-recorder.ts).
  const store =
    relay === undefined
      ? recordJobWrites(instrumented, { flushIntervalMs: JOB_STATS_FLUSH_MS, logger })
      : notifyOnEventWrite(instrumented, () => relay.notify());
  const service = createFeatureService({
    store,
    config,
    clock: overrides.clock ?? systemClock,
    metrics,
    ...(relay === undefined ? {} : { events: relay }),
  });
  // Only backends without native expiry sweep, and only when some category has a TTL.
  const sweeper =
    overrides.expirySweeper === false ||
    store.sweeper === undefined || Object.keys(config.categoryTtlMs).length === 0
      ? undefined
      : createExpirySweeper({ sweep: () => service.sweepExpired(config.ttl.sweepBatch), intervalMs: config.ttl.sweepIntervalMs, logger });
  const rollbacks = createRollbacks({
    store,
    entityTypes: Object.keys(config.entityTables),
    versionsLimit: maxVersionsKept(config.versions),
    batch: config.versions.rollbackBatch,
    clock: overrides.clock ?? systemClock,
    logger,
    restoreSettings: service.restoreSettings,
    deletedEvent: service.deletedEvent,
  });
  keys?.watch();
  const app = await buildApp({ config, service, metrics, logger, keys, rollbacks, ...(statsd === undefined ? {} : { statsd }) });
  // One hook, so the order is certain: the sweeper and the relay finish before the store closes.
  app.addHook('onClose', async () => {
    keys?.close();
    await sweeper?.stop();
    await rollbacks.stop();
    await relay?.stop();
    await store.close();
    await statsd?.close();
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close();
    throw err;
  }
  // Started once listening: events left by an earlier run are published from here on.
  relay?.start();
  sweeper?.start();
  await rollbacks.startResuming();
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  if (config.kafka === undefined) logger.info('KAFKA_BROKERS is not set: no change events are produced');
  else logger.info({ brokers: config.kafka.brokers, topic: config.kafka.topic }, 'publishing change events to Kafka');
  if (config.statsd !== undefined) logger.info({ statsd: config.statsd }, 'sending the legacy StatsD metrics');
  logger.info({ store: store.type, port, host: config.host }, 'feature store listening');
  let closing: Promise<void> | undefined;
  return {
    config,
    app,
    store,
    service,
    rollbacks,
    metrics,
    logger,
    url: `http://${host}:${port}`,
    close: () => (closing ??= app.close()),
  };
}

/**
 * Closes the runtime on SIGTERM/SIGINT; exits non-zero if shutdown exceeds the timeout. Takes the
 * runtime while it is still starting: the handlers are in place before the port opens, so a
 * supervisor that signals as soon as the service answers still gets a graceful shutdown.
 */
export function closeOnSignals(starting: Promise<Runtime>): void {
  const stop = (signal: string): void => {
    starting.then(
      (runtime) => {
        runtime.logger.info({ signal }, 'shutting down');
        const timer = setTimeout(() => {
          runtime.logger.error('shutdown timed out, exiting');
          process.exit(1);
        }, runtime.config.shutdownTimeoutMs);
        timer.unref();
        runtime.close().then(
          () => {
            runtime.logger.info('shut down cleanly');
            process.exit(0);
          },
          (err: unknown) => {
            runtime.logger.error({ err }, 'error during shutdown');
            process.exit(1);
          },
        );
      },
      // Start-up failed: the CLI reports that and exits.
      () => undefined,
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
