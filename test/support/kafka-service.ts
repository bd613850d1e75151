import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Errors } from 'typebox/schema';
import { loadConfig, type Config } from '../../src/config.js';
import { createTopic, deleteTopic, kafkaBrokers } from './kafka-broker.js';
import { isRecord } from './kafka-consumer.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Service configuration for event tests: ephemeral port, events on, and the store of `env`
 * (a backend instance's) or else the SQLite file `sqlitePath`.
 */
export function eventServiceConfig(options: { brokers: string; topic: string; sqlitePath?: string; env?: Record<string, string> }): Config {
  return loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    ...(options.sqlitePath === undefined ? {} : { SQLITE_PATH: options.sqlitePath }),
    KAFKA_BROKERS: options.brokers,
    TOPIC_NAME: options.topic,
    OUTBOX_POLL_MS: '50',
    ...options.env,
  });
}

/** A temporary directory removed by the returned `remove`. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A unique topic name for one test file. */
export function uniqueTopic(name: string): string {
  return `feature-store-test-${name}-${randomUUID().slice(0, 8)}`;
}

/**
 * A topic of its own for the enclosing suite: created in a `before` hook on the test broker,
 * deleted in an `after` hook. `brokers` is set once the hook ran.
 */
export function suiteTopic(name: string): { readonly topic: string; readonly brokers: string } {
  const state = { topic: uniqueTopic(name), brokers: '' };
  before(async () => {
    state.brokers = await kafkaBrokers();
    await createTopic(state.brokers, state.topic);
  });
  after(async () => {
    if (state.brokers !== '') await deleteTopic(state.brokers, state.topic);
  });
  return state;
}

export interface WriteInput {
  entityValue: string;
  features: Record<string, unknown>;
  entityType?: string;
  category?: string;
  /** Omitted from the request when `undefined`. */
  computeId?: string | null;
  /** `meta.event_time`; omitted from the request when `undefined`. */
  eventTime?: string;
}

export function writeBody(input: WriteInput): unknown {
  const meta: Record<string, unknown> = { source: 'prediction_service' };
  if (input.computeId !== undefined) meta.compute_id = input.computeId;
  if (input.eventTime !== undefined) meta.event_time = input.eventTime;
  return {
    meta,
    data: {
      entity_type: input.entityType ?? 'bright_uid',
      entity_value: input.entityValue,
      category: input.category ?? 'd0_unauth_features',
      features: input.features,
    },
  };
}

/** POSTs one write; resolves with the status and how long the response took. */
export async function write(baseUrl: string, input: WriteInput): Promise<{ status: number; ms: number; body: string }> {
  const start = performance.now();
  const res = await fetch(`${baseUrl}/api/v1/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(writeBody(input)),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.text();
  return { status: res.status, ms: performance.now() - start, body };
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at a time. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

export async function getJson(url: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const json: unknown = await res.json();
  return { status: res.status, json };
}

export async function getText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

/** The value of an unlabelled metric in Prometheus text, or undefined. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** The `events` part of GET /api/v1/health. */
export async function eventsHealth(baseUrl: string): Promise<{ httpStatus: number; events: Record<string, unknown> }> {
  const { status, json } = await getJson(`${baseUrl}/api/v1/health`);
  const events = isRecord(json) && isRecord(json.events) ? json.events : {};
  return { httpStatus: status, events };
}

/** Polls `check` every 100 ms until it returns true; throws after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const eventSchema = JSON.parse(readFileSync(join(ROOT, 'docs', 'event.schema.json'), 'utf8')) as Record<string, unknown>;

/** Problems of `value` against docs/event.schema.json (empty when it conforms). */
export function eventSchemaErrors(value: unknown): string[] {
  const [, errors] = Errors(eventSchema, value);
  return errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
}
