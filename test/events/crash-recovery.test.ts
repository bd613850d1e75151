import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { EVENT_BACKENDS } from '../support/backends.js';
import { createTopic, deleteTopic, disposeStoppableBroker, stoppableBroker, type StoppableBroker } from '../support/kafka-broker.js';
import { collect, eventIds, isRecord } from '../support/kafka-consumer.js';
import { eventServiceConfig, pool, uniqueTopic, write } from '../support/kafka-service.js';

/** `feature-store serve` as a child process; resolves once it logs the port it listens on. */
async function serve(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start in 30 s:\n${out}`));
    }, 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /"msg":"feature store listening"/.test(out) ? /"port":(\d+)/.exec(out)?.[1] : undefined;
      if (port !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${port}` });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

/**
 * Stops and restarts a broker: the runner's own, or a private one on a free port when the
 * broker at KAFKA_BROKERS belongs to someone else (see stoppableBroker). Not to be run in
 * parallel with other tests using the runner's broker. The broker is restarted in `finally`
 * whatever happens.
 */
after(disposeStoppableBroker);

for (const backend of EVENT_BACKENDS) describe(`process crash (${backend.name})`, { timeout: 300_000 }, () => {
  const topic = uniqueTopic('crash');
  const run = randomUUID().slice(0, 8);
  let broker: StoppableBroker;
  let brokers: string;
  let instance: BackendInstance;

  before(async () => {
    broker = await stoppableBroker();
    brokers = broker.brokers;
    await createTopic(brokers, topic);
    instance = await backend.setup();
  });

  after(async () => {
    if (brokers !== undefined) await deleteTopic(brokers, topic);
    await instance?.teardown();
  });

  test('events of writes acknowledged just before SIGKILL (broker down) arrive after restart', async (t) => {
    // Fewer on moto, which serves one request at a time.
    const count = backend.type === 'sqlite' ? 300 : 100;
    const prefix = `bright_uid:${run}-crash-`;
    let child: ChildProcess | undefined;
    try {
      await broker.stop();
      // A short lease, so that the restarted service soon takes over a batch the killed one had claimed.
      const service = await serve({ ...instance.env, DYNAMODB_TIMEOUT_MS: '10000', KAFKA_BROKERS: brokers, TOPIC_NAME: topic, OUTBOX_LEASE_MS: '2000' });
      child = service.child;
      const results = await pool(count, 10, (i) => write(service.url, { entityValue: `${run}-crash-${i}`, features: { i } }));
      const exited = once(child, 'exit');
      child.kill('SIGKILL'); // right after the last acknowledgement
      const [, signal] = (await exited) as [number | null, string | null];
      assert.equal(signal, 'SIGKILL');
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
    } finally {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await broker.restart();
    }

    const restartedAt = performance.now();
    const runtime = await startServer(
      eventServiceConfig({ brokers, topic, env: { ...instance.env, OUTBOX_LEASE_MS: '2000' } }),
    );
    const consumed = await collect(brokers, topic);
    try {
      await consumed.waitFor((m) => eventIds(m, prefix).size >= count, 60_000, `all ${count} events after the restart`);
      t.diagnostic(`all ${count} events consumed ${(performance.now() - restartedAt).toFixed(0)} ms after the service restarted`);
      const values = consumed.messages.filter((m) => m.key?.startsWith(prefix)).map((m) => m.value);
      const entities = new Set(values.map((v) => (isRecord(v) ? v.entity_id : undefined)));
      for (let i = 0; i < count; i++) assert.ok(entities.has(`${run}-crash-${i}`), `event of write ${i}`);
    } finally {
      await consumed.stop();
      await runtime.close();
    }
  });
});
