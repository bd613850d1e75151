import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../../src/server.js';
import { openStore, type BackendInstance } from '../support/backend.js';
import { EVENT_BACKENDS } from '../support/backends.js';
import { CLI, serveProcess } from '../support/cli-process.js';
import { createTopic, deleteTopic, kafkaBrokers } from '../support/kafka-broker.js';
import { collect, isRecord } from '../support/kafka-consumer.js';
import { eventServiceConfig, eventually, getJson, pool, uniqueTopic, write } from '../support/kafka-service.js';

const CAT = 'd0_unauth_features';

interface Status {
  status: string;
  restored: number;
  skipped: number;
  deleted: number;
}

/**
 * A rollback in the real process: its change events reach the broker (the shared one; nothing
 * here stops it), and a rollback interrupted by SIGKILL resumes in the next process and ends
 * with every record restored. Runs on every backend that keeps versions and records events.
 */
for (const backend of EVENT_BACKENDS.filter((b) => b.versions)) {
  describe(`rollback in a real process (${backend.name})`, { timeout: 300_000 }, () => {
    const topic = uniqueTopic('rollback');
    const run = randomUUID().slice(0, 8);
    let brokers: string;
    let instance: BackendInstance;

    before(async () => {
      brokers = await kafkaBrokers();
      await createTopic(brokers, topic);
      instance = await backend.setup();
    });
    after(async () => {
      if (brokers !== undefined) await deleteTopic(brokers, topic);
      await instance?.teardown();
    });

    test('interrupted by SIGKILL, resumed after the restart; one change event per restored record', async (t) => {
      const count = backend.type === 'sqlite' ? 120 : 40;
      const good = `good-${run}`;
      const bad = `bad-${run}`;
      const id = (i: number): string => `${run}-rb-${i}`;
      const env = { ...instance.env, KAFKA_BROKERS: brokers, TOPIC_NAME: topic, ROLLBACK_BATCH_SIZE: '1', DYNAMODB_TIMEOUT_MS: '10000' };

      // Seed with an in-process service: the good job, then the bad one, over every record.
      const seeder = await startServer(eventServiceConfig({ brokers, topic, env: { ...instance.env, DYNAMODB_TIMEOUT_MS: '10000' } }));
      // The machine is shared: a write refused with 503 (overload, a slow emulator) is sent again.
      const seed = async (i: number, computeId: string): Promise<number> => {
        let status = 0;
        for (let attempt = 0; attempt < 5 && status !== 200; attempt++) {
          status = (await write(seeder.url, { entityValue: id(i), features: { score: computeId === good ? i : -1 }, computeId })).status;
          if (status !== 200) await new Promise((r) => setTimeout(r, 200));
        }
        return status;
      };
      try {
        for (const computeId of [good, bad]) {
          const statuses = await pool(count, 4, (i) => seed(i, computeId));
          assert.deepEqual(new Set(statuses), new Set([200]));
        }
      } finally {
        await seeder.close();
      }

      const consumed = await collect(brokers, topic);
      try {
        const first = await serveProcess([...CLI, 'serve'], env);
        const url = `http://127.0.0.1:${first.port}`;
        let seen: Status | undefined;
        try {
          const started = await fetch(`${url}/api/v1/compute-jobs/${bad}/rollback`, { method: 'POST' });
          assert.equal(started.status, 202);
          // Kill it as soon as some records are restored (batches of one record).
          await eventually(async () => {
            seen = (await getJson(`${url}/api/v1/compute-jobs/${bad}/rollback`)).json as Status;
            return seen.restored > 0;
          }, 60_000, 'the first restores');
        } finally {
          first.child.kill('SIGKILL');
          assert.equal(await first.exited, 'SIGKILL');
        }
        // The saved state: interrupted while running.
        const store = await openStore(instance);
        const interrupted = await store.rollbacks.get(bad);
        await store.close();
        assert.equal(interrupted?.status, 'running', 'killed before the rollback ended');
        t.diagnostic(`killed with ${interrupted?.restored} of ${count} restored`);

        // The lease of the killed process expires after 30 s; a fresh process resumes then.
        const second = await serveProcess([...CLI, 'serve'], env);
        const url2 = `http://127.0.0.1:${second.port}`;
        let final: Status | undefined;
        try {
          await eventually(async () => {
            final = (await getJson(`${url2}/api/v1/compute-jobs/${bad}/rollback`)).json as Status;
            return final.status === 'done';
          }, 120_000, 'the resumed rollback to end');
          for (let i = 0; i < count; i++) {
            const record = (await getJson(`${url2}/api/v1/get/item/${id(i)}/${CAT}`)).json as { features: { data: unknown; meta: { compute_id: string } } };
            assert.deepEqual(record.features.data, { score: i }, `record ${i} restored`);
            assert.equal(record.features.meta.compute_id, good);
          }
          // A batch cut by the kill is not found again (its record left the job), so at most one is uncounted.
          assert.ok((final?.restored ?? 0) >= count - 1 && (final?.restored ?? 0) <= count, `restored ${final?.restored}`);
          // One feature_available event per restored record, carrying the earlier job's compute_id.
          await consumed.waitFor(
            (messages) => new Set(messages.filter((m) => isRecord(m.value) && m.value.compute_id === good && m.key?.startsWith(`bright_uid:${run}-rb-`)).map((m) => m.key)).size >= count,
            60_000,
            'the rollback events',
          );
          const events = consumed.messages.filter((m) => isRecord(m.value) && m.value.compute_id === good);
          for (const m of events) {
            assert.ok(isRecord(m.value), 'isRecord(m.value)');
            assert.equal(m.value.event_type, 'feature_available');
            assert.deepEqual(m.value.features, ['score']);
          }
        } finally {
          second.child.kill('SIGTERM');
          await second.exited;
        }
      } finally {
        await consumed.stop();
      }
    });
  });
}
