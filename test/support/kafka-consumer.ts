import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer } from 'kafkajs';
import { testKafka } from './kafka-broker.js';

/** One message as really consumed from the topic. */
export interface ConsumedMessage {
  key: string | null;
  /** The value parsed as JSON (`undefined` if it is not JSON). */
  value: unknown;
  raw: string;
  headers: Record<string, string>;
  partition: number;
  offset: bigint;
}

export interface Collector {
  readonly messages: readonly ConsumedMessage[];
  /** Resolves once `done(messages)` holds; rejects after `timeoutMs` saying what was missing. */
  waitFor(done: (messages: readonly ConsumedMessage[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  stop(): Promise<void>;
}

/** Consumes `topic` from the beginning with a fresh consumer group, collecting every message. */
export async function collect(brokers: string, topic: string): Promise<Collector> {
  const messages: ConsumedMessage[] = [];
  const consumer: Consumer = testKafka(brokers).consumer({ groupId: `feature-store-test-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const raw = message.value?.toString('utf8') ?? '';
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        value = undefined;
      }
      const headers: Record<string, string> = {};
      for (const [name, v] of Object.entries(message.headers ?? {})) {
        if (v !== undefined) headers[name] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
      }
      messages.push({ key: message.key?.toString('utf8') ?? null, value, raw, headers, partition, offset: BigInt(message.offset) });
    },
  });
  return {
    messages,
    async waitFor(done, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!done(messages)) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${messages.length} messages consumed)`);
        await sleep(50);
      }
    },
    stop: () => consumer.disconnect(),
  };
}

/** Distinct `event_id`s among `messages` whose key starts with `keyPrefix`. */
export function eventIds(messages: readonly ConsumedMessage[], keyPrefix: string): Set<string> {
  const ids = new Set<string>();
  for (const m of messages) {
    if (m.key?.startsWith(keyPrefix) && isRecord(m.value) && typeof m.value.event_id === 'string') ids.add(m.value.event_id);
  }
  return ids;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The `features` of the first delivery of each event with message key `key`, in consumed order
 * (a redelivery repeats an event id and is left out): what per-key ordering is checked on.
 */
export function firstDeliveryFeatures(messages: readonly { key: string | null; value: unknown }[], key: string): unknown[] {
  const seen = new Set<string>();
  const order: unknown[] = [];
  for (const m of messages) {
    if (m.key !== key || !isRecord(m.value) || seen.has(String(m.value.event_id))) continue;
    seen.add(String(m.value.event_id));
    order.push(m.value.features);
  }
  return order;
}
