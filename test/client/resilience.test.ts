import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { formatKeyFile, newSecret } from '../../src/auth/api-keys.js';
import {
  createClient,
  FeatureStoreApiError,
  FeatureStoreTimeoutError,
  parseRetryAfter,
  type RetryInfo,
} from '../../packages/client/src/index.js';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { tempDir } from '../support/kafka-service.js';
import { sqliteBackend } from '../support/sqlite-backend.js';
import { startService } from '../support/service.js';

/** The client's retries on real 429 and 503 answers, its timeout, and API keys. */
const D0 = 'd0_unauth_features';

async function withService(env: Record<string, string>, body: (runtime: Runtime) => Promise<void>): Promise<void> {
  const instance: BackendInstance = await sqliteBackend.setup();
  const runtime = await startService(instance, { env });
  try {
    await body(runtime);
  } finally {
    await runtime.close();
    await instance.teardown();
  }
}

describe('client: retries, timeouts, API keys', () => {
  test('429 from the rate limit is retried after Retry-After; without retries it is a typed error', async () => {
    await withService({ RATE_LIMIT_PER_SECOND: '2' }, async (runtime) => {
      const retried: RetryInfo[] = [];
      const fs = createClient({ baseUrl: runtime.url, source: 'prediction_service', retries: 5, onRetry: (r) => retried.push(r) });
      const id = `user-${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => fs.write({ entityType: 'bright_uid', entityValue: `${id}-${i}`, category: D0, features: { i } })),
      );
      assert.equal(results.length, 6);
      assert.ok(retried.length >= 4, `retries: ${retried.length}`);
      assert.ok(retried.every((r) => r.status === 429 && r.delayMs >= 1000 && r.delayMs <= 2000), JSON.stringify(retried));

      const impatient = createClient({ baseUrl: runtime.url, source: 'prediction_service', retries: 0 });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 4 }, () => impatient.read({ entityType: 'bright_uid', entityValue: `${id}-0`, category: D0 })),
      );
      const refused: unknown[] = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      assert.ok(refused.length >= 2, 'refused.length >= 2');
      for (const err of refused) {
        assert.ok(err instanceof FeatureStoreApiError, 'err instanceof FeatureStoreApiError');
        assert.equal(err.status, 429);
        assert.equal(err.code, 'RATE_LIMITED');
      }
    });
  });

  test('503 SERVICE_OVERLOADED from a lagging event loop is retried until the service answers', async () => {
    await withService({ MAX_EVENT_LOOP_DELAY_MS: '50' }, async (runtime) => {
      const retried: RetryInfo[] = [];
      const fs = createClient({ baseUrl: runtime.url, source: 'prediction_service', retries: 4, onRetry: (r) => retried.push(r) });
      const id = `user-${randomUUID()}`;
      await fs.write({ entityType: 'bright_uid', entityValue: id, category: D0, features: { v: 1 } });
      // The service runs in this process: blocking it makes its overload guard see the lag.
      const until = Date.now() + 300;
      while (Date.now() < until) {
        /* busy */
      }
      const record = await fs.read({ entityType: 'bright_uid', entityValue: id, category: D0 });
      assert.deepEqual(record.features.data, { v: 1 });
      assert.ok(retried.length >= 1, 'retried.length >= 1');
      assert.ok(retried.every((r) => r.status === 503 && r.delayMs === 1000), JSON.stringify(retried));

      const until2 = Date.now() + 300;
      while (Date.now() < until2) {
        /* busy */
      }
      const impatient = createClient({ baseUrl: runtime.url, retries: 0 });
      await assert.rejects(impatient.read({ entityType: 'bright_uid', entityValue: id, category: D0 }), { status: 503, code: 'SERVICE_OVERLOADED' });
    });
  });

  test('Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-12-06T12:00:00.000Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('Sun, 06 Dec 2026 12:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Sun, 06 Dec 2026 11:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  describe('a server that never answers', () => {
    let server: Server;
    let url: string;
    before(async () => {
      server = createServer(() => {
        /* never answers */
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    test('times out with a FeatureStoreTimeoutError', async () => {
      const fs = createClient({ baseUrl: url, timeoutMs: 200 });
      const started = Date.now();
      await assert.rejects(fs.read({ entityType: 'bright_uid', entityValue: 'x', category: D0 }), (err: unknown) => {
        assert.ok(err instanceof FeatureStoreTimeoutError, 'err instanceof FeatureStoreTimeoutError');
        assert.equal(err.timeoutMs, 200);
        return true;
      });
      assert.ok(Date.now() - started >= 190, 'Date.now() - started >= 190');
    });
  });

  test('API keys: none → 401, a read key cannot write (403), a write key can', async () => {
    const dir = tempDir('feature-store-client-keys-');
    const reader = newSecret('reader');
    const writer = newSecret('writer');
    const file = `${dir.path}/keys.json`;
    writeFileSync(
      file,
      formatKeyFile({
        version: 1,
        keys: [
          { id: 'reader', hash: reader.hash, scopes: ['read'], created_at: '2026-12-06T10:00:00.000Z' },
          { id: 'writer', hash: writer.hash, scopes: ['read', 'write'], sources: ['prediction_service'], created_at: '2026-12-06T10:00:00.000Z' },
        ],
      }),
    );
    try {
      await withService({ API_KEYS_FILE: file }, async (runtime) => {
        const id = `user-${randomUUID()}`;
        const input = { entityType: 'bright_uid', entityValue: id, category: D0, features: { v: 1 }, source: 'prediction_service' };
        await assert.rejects(createClient({ baseUrl: runtime.url }).write(input), { status: 401, code: 'NOT_AUTHENTICATED' });
        await assert.rejects(createClient({ baseUrl: runtime.url, apiKey: reader.secret }).write(input), { status: 403, code: 'FORBIDDEN' });
        await createClient({ baseUrl: runtime.url, apiKey: writer.secret }).write(input);
        const record = await createClient({ baseUrl: runtime.url, apiKey: reader.secret }).read(input);
        assert.deepEqual(record.features.data, { v: 1 });
        assert.equal((await createClient({ baseUrl: runtime.url }).health()).status, 'healthy');
      });
    } finally {
      dir.remove();
    }
  });
});
