/**
 * Kafka client choice: kafkajs 2.2.4. It is pure JavaScript and runs on Node 20 (this service's
 * runtime), and has the idempotent producer, acks=all, TLS and SASL PLAIN/SCRAM.
 * @platformatic/kafka 2.x needs Node >= 22.22; @confluentinc/kafka-javascript downloads native
 * code at install time, which these machines cannot do.
 */
import { Kafka, type Admin, type Message, type Producer, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { outboxEventText, type OutboxEvent } from '../model.js';
import { DestinationMissingError, type EventPublisher } from './event-publisher.js';
import { KeyPartitioner } from './key-partitioner.js';
import { kafkaLogCreator, kafkaLogLevel, type KafkaLog } from './kafka-logger.js';

export interface KafkaPublisherOptions {
  /** Upper bound of one `publish` (connect + every produce request), ms. */
  publishTimeoutMs?: number;
  /** Upper bound of one `probe`, ms. */
  probeTimeoutMs?: number;
  /**
   * Most bytes of message values per produce request; a larger batch goes out as several
   * requests, one after the other, in order. Keeps each partition's record batch well under the
   * broker's default `message.max.bytes` (1 MiB).
   */
  maxRequestBytes?: number;
}

/**
 * kafkajs retries inside each call, so one attempt is bounded (about 2 s when the broker refuses
 * connections); the outbox relay retries forever around it with its own backoff.
 */
const RETRY = { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 } as const;

/** Every message's headers: one object for all (kafkajs only reads a message's headers). */
const HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

/**
 * The Kafka message of an outbox event: key `<entity_type>:<entity_value>`, the event as JSON
 * (the outbox's stored text when the event was read from one, the same bytes).
 */
export function toKafkaMessage(event: OutboxEvent): Message {
  return kafkaMessage(event.key, eventValue(event));
}

/** The JSON text of an outbox event as published: the stored text when there is one. */
export function eventValue(event: OutboxEvent): string {
  return outboxEventText(event) ?? JSON.stringify(event.event);
}

/** The Kafka message with `key` and the event's JSON text `value`. */
export function kafkaMessage(key: string, value: string): Message {
  return { key, value, headers: HEADERS };
}

/**
 * The Kafka side of the publisher in its own terms: messages (key and JSON text) instead of
 * outbox events. The publisher thread (publisher-thread.ts) runs this one.
 */
export interface MessagePublisher {
  /** As `EventPublisher.publish`, for the messages of the events, in order. */
  publish(messages: readonly Message[]): Promise<void>;
  probe(): Promise<void>;
  close(): Promise<void>;
}

/** The publisher of outbox events, on this thread (tests; the service runs `createKafkaSender` in a worker thread). */
export function createKafkaPublisher(config: KafkaConfig, logger: Logger, options: KafkaPublisherOptions = {}): EventPublisher {
  const sender = createKafkaSender(config, logger.child({ component: 'kafkajs' }), options);
  return {
    publish: (events) => sender.publish(events.map(toKafkaMessage)),
    probe: () => sender.probe(),
    close: () => sender.close(),
  };
}

/**
 * Publishes with an idempotent producer (acks=all, one request in flight, so a retried request
 * can neither duplicate nor reorder a partition's messages). After any failure the producer is
 * discarded and the next attempt starts a fresh one (new producer id): a request whose outcome
 * is unknown then cannot wedge the old producer's sequence numbers; a resend may duplicate,
 * which consumers absorb by `event_id`.
 */
export function createKafkaSender(config: KafkaConfig, log: KafkaLog, options: KafkaPublisherOptions = {}): MessagePublisher {
  const publishTimeoutMs = options.publishTimeoutMs ?? 20_000;
  const probeTimeoutMs = options.probeTimeoutMs ?? 5_000;
  const maxRequestBytes = options.maxRequestBytes ?? 512 * 1024;
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    ssl: config.ssl,
    ...(config.sasl === undefined ? {} : { sasl: saslOptions(config.sasl) }),
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: RETRY,
    logLevel: kafkaLogLevel,
    logCreator: kafkaLogCreator(log),
  });
  let producer: Promise<Producer> | undefined;
  let admin: Promise<Admin> | undefined;

  function connectedProducer(): Promise<Producer> {
    producer ??= connect(
      kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: config.allowAutoTopicCreation,
        // murmur2, as the Java client: a key lands on the same partition whichever client sends it.
        createPartitioner: KeyPartitioner,
        retry: RETRY,
      }),
    );
    return producer;
  }

  function connectedAdmin(): Promise<Admin> {
    admin ??= connect(kafka.admin({ retry: { retries: 0 } }));
    return admin;
  }

  async function resetProducer(): Promise<void> {
    const current = producer;
    producer = undefined;
    await disconnect(current);
  }

  async function resetAdmin(): Promise<void> {
    const current = admin;
    admin = undefined;
    await disconnect(current);
  }

  async function send(all: readonly Message[]): Promise<void> {
    const p = await connectedProducer();
    for (const messages of chunks(all, maxRequestBytes)) {
      await p.send({ topic: config.topic, acks: -1, messages });
    }
  }

  return {
    async publish(messages) {
      if (messages.length === 0) return;
      try {
        await withTimeout(send(messages), publishTimeoutMs, 'Kafka publish');
      } catch (err) {
        await resetProducer();
        throw topicMissing(err) ? new KafkaTopicMissingError(config.topic, err) : new KafkaPublishError(config.topic, err);
      }
    },

    async probe() {
      const check = async (): Promise<void> => {
        const a = await connectedAdmin();
        // Without auto-creation the topic must exist for publishing to work, so check it too.
        if (config.allowAutoTopicCreation) await a.describeCluster();
        else await a.fetchTopicMetadata({ topics: [config.topic] });
      };
      try {
        await withTimeout(check(), probeTimeoutMs, 'Kafka probe');
      } catch (err) {
        await resetAdmin();
        throw topicMissing(err) ? new KafkaTopicMissingError(config.topic, err) : err;
      }
    },

    async close() {
      await Promise.all([resetProducer(), resetAdmin()]);
    },
  };
}

/** A publish attempt failed; none, some or all of its events may have been written. */
export class KafkaPublishError extends Error {
  readonly code = 'KAFKA_PUBLISH_FAILED';
  constructor(topic: string, cause: unknown) {
    super(`Publishing to Kafka topic '${topic}' failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'KafkaPublishError';
  }
}

/** The configured topic does not exist (and the producer may not create it). */
export class KafkaTopicMissingError extends DestinationMissingError {
  constructor(topic: string, cause: unknown) {
    super(
      `Kafka topic '${topic}' does not exist; events stay in the outbox until it is created (locally: npm run kafka:start creates it)`,
      { cause },
    );
    this.name = 'KafkaTopicMissingError';
  }
}

/** Whether kafkajs failed because the broker has no such topic (directly or after its retries). */
function topicMissing(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    if ((e as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

interface Client {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

async function connect<C extends Client>(client: C): Promise<C> {
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.disconnect().catch(() => undefined);
    throw err;
  }
}

/** Disconnects a client that may still be connecting (or have failed to). Never rejects. */
async function disconnect(client: Promise<Client> | undefined): Promise<void> {
  if (client === undefined) return;
  try {
    await (await client).disconnect();
  } catch {
    // Failed to connect (already cleaned up) or the connection is gone: nothing to release.
  }
}

function saslOptions(sasl: NonNullable<KafkaConfig['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

/** Splits messages, in order, into runs of at most `maxBytes` of values (at least one each). */
function chunks(messages: readonly Message[], maxBytes: number): Message[][] {
  const out: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = typeof m.value === 'string' ? Buffer.byteLength(m.value) : (m.value?.length ?? 0);
    if (current.length > 0 && bytes + size > maxBytes) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
