import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeOnEveryBackend } from '../support/live-service.js';
import type { HttpResult } from '../support/service.js';

const CAT = 'd0_unauth_features';
let counter = 0;
const uid = (): string => `cid-${process.pid}-${Date.now()}-${++counter}`;

function body(entityValue: string, meta: Record<string, unknown>) {
  return { meta: { source: 'prediction_service', ...meta }, data: { entity_type: 'bright_uid', entity_value: entityValue, category: CAT, features: { a: 1 } } };
}

function locs(res: HttpResult): { type: string; loc: (string | number)[] }[] {
  assert.equal(res.status, 422, res.text);
  const detail = (res.json as { detail: { type: string; loc: (string | number)[]; msg: string }[]; code: string }).detail;
  assert.equal((res.json as { code: string }).code, 'VALIDATION_FAILED');
  return detail.map((d) => ({ type: d.type, loc: d.loc }));
}

const AT = ['body', 'meta', 'compute_id'];

/** The compute_id rules (COMPUTE_ID_PATTERN, COMPUTE_ID_REQUIRED, 256 characters) on every backend. */
describeOnEveryBackend('compute_id rules', { COMPUTE_ID_PATTERN: 'spark-[a-z0-9-]+', COMPUTE_ID_REQUIRED: 'true' }, (live) => {
  async function nothingStored(id: string): Promise<void> {
    assert.equal((await live.http.get(`/api/v1/get/item/${encodeURIComponent(id)}/${CAT}`)).status, 404);
  }

  test('a matching compute_id is written and read back', async () => {
    const id = uid();
    assert.equal((await live.http.post('/api/v1/items', body(id, { compute_id: 'spark-job-2025-10-16-abc123' }))).status, 200);
    const read = await live.http.get(`/api/v1/get/item/${id}/${CAT}`);
    assert.equal((read.json as { features: { meta: { compute_id: string } } }).features.meta.compute_id, 'spark-job-2025-10-16-abc123');
  });

  test('the pattern is anchored: the whole id must match', async () => {
    for (const computeId of ['my-spark-1', 'spark-1 ', 'spark-ABC', 'spark-']) {
      const id = uid();
      const res = await live.http.post('/api/v1/items', body(id, { compute_id: computeId }));
      assert.deepEqual(locs(res), [{ type: 'string_pattern_mismatch', loc: AT }], computeId);
      assert.equal((res.json as { detail: { msg: string }[] }).detail[0]?.msg, "String should match pattern 'spark-[a-z0-9-]+'");
      await nothingStored(id);
    }
  });

  test('required: a missing compute_id and a null one are refused', async () => {
    const id = uid();
    assert.deepEqual(locs(await live.http.post('/api/v1/items', body(id, {}))), [{ type: 'missing', loc: AT }]);
    assert.deepEqual(locs(await live.http.post('/api/v1/items', body(id, { compute_id: null }))), [{ type: 'string_type', loc: AT }]);
    await nothingStored(id);
  });

  test('256 characters are accepted, 257 are refused', async () => {
    const id = uid();
    const ok = `spark-${'a'.repeat(250)}`;
    assert.equal(ok.length, 256);
    assert.equal((await live.http.post('/api/v1/items', body(id, { compute_id: ok }))).status, 200);
    const other = uid();
    const res = await live.http.post('/api/v1/items', body(other, { compute_id: `${ok}b` }));
    assert.deepEqual(locs(res), [{ type: 'string_too_long', loc: AT }]);
    assert.equal((res.json as { detail: { msg: string }[] }).detail[0]?.msg, 'String should have at most 256 characters');
    await nothingStored(other);
  });

  test('compute_id problems are listed with the source problem and the schema problems of the same request', async () => {
    const id = uid();
    const res = await live.http.post('/api/v1/items', { meta: { source: 'intruder', compute_id: 'nope' }, data: { entity_type: 'bright_uid', entity_value: id } });
    assert.deepEqual(locs(res), [
      { type: 'value_error', loc: ['body', 'meta', 'source'] },
      { type: 'string_pattern_mismatch', loc: AT },
      { type: 'missing', loc: ['body', 'data', 'category'] },
      { type: 'missing', loc: ['body', 'data', 'features'] },
    ]);
    // With valid data, the meta problems and the service's own rules come in one list too.
    const mixed = await live.http.post('/api/v1/items', {
      meta: { source: 'intruder' },
      data: { entity_type: 'device', entity_value: id, category: CAT, features: { a: 1 } },
    });
    assert.deepEqual(locs(mixed), [
      { type: 'value_error', loc: ['body', 'meta', 'source'] },
      { type: 'missing', loc: AT },
      { type: 'literal_error', loc: ['body', 'data', 'entity_type'] },
    ]);
    await nothingStored(id);
  });

  test('a compute_id of the wrong type is reported once, by the schema', async () => {
    const id = uid();
    assert.deepEqual(locs(await live.http.post('/api/v1/items', body(id, { compute_id: 42 }))), [{ type: 'string_type', loc: AT }]);
  });
});
