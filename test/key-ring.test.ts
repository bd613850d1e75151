import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { formatKeyFile, newSecret, type ApiKey } from '../src/auth/api-keys.js';
import { KeyRing } from '../src/auth/key-ring.js';
import { createLogger } from '../src/logger.js';
import { tempDir } from './support/kafka-service.js';

const dir = tempDir('feature-store-key-ring-');
after(() => dir.remove());

function key(id: string): { key: ApiKey; secret: string } {
  const { secret, hash } = newSecret(id);
  return { key: { id, hash, scopes: ['read'], created_at: '2026-12-06T10:00:00.000Z' }, secret };
}

test('SIGHUP re-reads the keys file; an unusable file keeps the keys in force', async () => {
  const file = `${dir.path}/keys.json`;
  const a = key('a');
  const b = key('b');
  writeFileSync(file, formatKeyFile({ version: 1, keys: [a.key] }));
  const ring = await KeyRing.load(file, createLogger('silent'));
  try {
    // Changed before the ring watches, so only the signal can bring the change in.
    writeFileSync(file, formatKeyFile({ version: 1, keys: [b.key] }));
    ring.watch();
    assert.equal(ring.verify(a.secret)?.id, 'a');
    assert.equal(ring.verify(b.secret), undefined);
    process.kill(process.pid, 'SIGHUP');
    const deadline = Date.now() + 5_000;
    while (ring.verify(b.secret) === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(ring.verify(b.secret)?.id, 'b');
    assert.equal(ring.verify(a.secret), undefined, 'a revoked key is refused');

    writeFileSync(file, '{"version": 2}');
    await ring.reload();
    assert.equal(ring.verify(b.secret)?.id, 'b', 'the keys in force stay');
    assert.deepEqual(ring.ids(), ['b']);
  } finally {
    ring.close();
  }
});
