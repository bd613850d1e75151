import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requestUuid } from '../../src/http/request-uuids.js';
import type { TestBackend } from '../support/backend.js';
import { BACKENDS } from '../support/backends.js';
import { serviceForSuite } from '../support/suite-service.js';

/**
 * Generated request ids (src/http/request-uuids.ts) are random version-4 UUIDs in the form of
 * `crypto.randomUUID()`, new for every request, on the fast paths (the lane) and on Fastify's.
 */

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are version-4 UUIDs, all different across many batches', () => {
  const seen = new Set<string>();
  // Every position but the version digit and the variant's two bits takes each hex value.
  const digits = Array.from({ length: 36 }, () => new Set<string>());
  for (let i = 0; i < 10_000; i++) {
    const id = requestUuid();
    assert.match(id, V4);
    assert.equal(seen.has(id), false, `repeated ${id}`);
    seen.add(id);
    for (let p = 0; p < 36; p++) digits[p]?.add(id[p] as string);
  }
  for (let p = 0; p < 36; p++) {
    const expected = [8, 13, 18, 23].includes(p) ? 1 : p === 14 ? 1 : p === 19 ? 4 : 16;
    assert.equal(digits[p]?.size, expected, `position ${p}: ${[...(digits[p] ?? [])].join('')}`);
  }
});

function requestIdSuite(backend: TestBackend): void {
  describe(`generated request ids: ${backend.name}`, () => {
    const { http } = serviceForSuite(backend);

    test('each answer, fast path or not, carries a new version-4 id; a sane given one is kept', async () => {
      const paths = ['/api/v1/get/item/nobody/d0_unauth_features', '/api/v1/get/item/nobody/d0_unauth_features/', '/api/v1/health'];
      const ids = new Set<string>();
      for (let i = 0; i < 3; i++) {
        for (const path of paths) {
          const id = (await http.get(path)).headers.get('x-request-id') ?? '';
          assert.match(id, V4, path);
          ids.add(id);
        }
      }
      assert.equal(ids.size, 3 * paths.length);
      assert.equal((await http.get(paths[0] as string, { 'x-request-id': 'trace-7' })).headers.get('x-request-id'), 'trace-7');
    });
  });
}

for (const backend of BACKENDS) requestIdSuite(backend);
