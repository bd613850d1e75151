import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin } from 'kafkajs';

/**
 * The broker's readiness and topics, through kafkajs's admin client (the client the service
 * itself uses): "ready" means the broker answers a metadata request naming at least one broker
 * and lists its topics.
 */

export interface Readiness {
  clusterId: string;
  /** Topics this call created (the others existed). */
  created: string[];
}

function adminOf(brokers: string): Admin {
  return new Kafka({
    clientId: 'feature-store-kafka-start',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  }).admin({ retry: { retries: 0 } });
}

/**
 * Waits until the broker at `brokers` answers (up to `timeoutMs`, giving up early once
 * `gone()` says its process exited), then creates those of `topics` that are missing with
 * `partitions` partitions (replication 1) and waits for their leaders.
 */
export async function awaitBroker(
  brokers: string,
  options: { timeoutMs: number; topics: readonly string[]; partitions: number; gone?: () => boolean },
): Promise<Readiness> {
  const deadline = Date.now() + options.timeoutMs;
  let last: Error | undefined;
  for (;;) {
    if (options.gone?.() === true) throw new Error(`the broker process exited before answering on ${brokers}`);
    const admin = adminOf(brokers);
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) {
        const existing = new Set(await admin.listTopics());
        const missing = options.topics.filter((topic) => !existing.has(topic));
        if (missing.length > 0) {
          await admin.createTopics({
            topics: missing.map((topic) => ({ topic, numPartitions: options.partitions, replicationFactor: 1 })),
            waitForLeaders: true,
            timeout: 30_000,
          });
        }
        return { clusterId: cluster.clusterId, created: missing };
      }
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      const reason = last?.message ?? 'no broker in the metadata';
      throw new Error(`the broker at ${brokers} did not answer within ${Math.round(options.timeoutMs / 1000)} s; last error: ${reason}`);
    }
    await sleep(250);
  }
}
