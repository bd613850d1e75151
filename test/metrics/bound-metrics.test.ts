import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { BoundCounter, BoundHistogram } from '../../src/bound-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVED: [string, string, number][] = [
  ['/a', 'GET', 0.0005],
  ['/a', 'GET', 0.001],
  ['/a', 'GET', 0.02],
  ['/b/:id', 'POST', 5],
  ['/a', 'GET', 0.5],
  ['/b/:id', 'POST', 0.01],
];

/** The same observations through prom-client's own metrics and through the bound ones. */
async function expositions(): Promise<{ prom: string; bound: string }> {
  const promRegistry = new Registry();
  const boundRegistry = new Registry();
  const names = { labelNames: ['route', 'method'] as const };
  const promHistogram = new Histogram({ name: 'h_seconds', help: 'H.', buckets: BUCKETS, registers: [promRegistry], ...names });
  const promCounter = new Counter({ name: 'c_total', help: 'C.', registers: [promRegistry], ...names });
  const boundHistogram = new BoundHistogram({ name: 'h_seconds', help: 'H.', buckets: BUCKETS, registers: [boundRegistry], ...names });
  const boundCounter = new BoundCounter({ name: 'c_total', help: 'C.', registers: [boundRegistry], ...names });
  // Bound but never used: no series, as with prom-client.
  promHistogram.labels('/unused', 'GET');
  boundHistogram.labels('/unused', 'GET');
  boundCounter.labels('/unused', 'GET');
  for (const [route, method, seconds] of OBSERVED) {
    promHistogram.labels(route, method).observe(seconds);
    promCounter.labels(route, method).inc();
    boundHistogram.labels(route, method).observe(seconds);
    boundCounter.labels(route, method).inc();
  }
  promCounter.labels('/a', 'GET').inc(3);
  boundCounter.labels('/a', 'GET').inc(3);
  return { prom: await promRegistry.metrics(), bound: await boundRegistry.metrics() };
}

test('the bound counter and histogram expose exactly what prom-client exposes for the same observations', async () => {
  const { prom, bound } = await expositions();
  assert.match(prom, /h_seconds_bucket\{le="0.01",route="\/a",method="GET"\} 2/);
  assert.match(prom, /c_total\{route="\/a",method="GET"\} 7/);
  assert.equal(bound, prom);
});

test('get() merges each label set into its values, as prom-client does', async () => {
  const registry = new Registry();
  const h = new BoundHistogram({ name: 'x_seconds', help: 'X.', labelNames: ['op'] as const, buckets: [1], registers: [registry] });
  h.labels('read').observe(2);
  const got = await h.get();
  assert.deepEqual(
    got.values.map((v) => [v.metricName, v.labels, v.value]),
    [
      ['x_seconds_bucket', { le: 1, op: 'read' }, 0],
      ['x_seconds_bucket', { le: '+Inf', op: 'read' }, 1],
      ['x_seconds_sum', { op: 'read' }, 2],
      ['x_seconds_count', { op: 'read' }, 1],
    ],
  );
  assert.throws(() => h.labels('a', 'b'), /expected 1 label values/);
});

test('a label set is one child however its value strings were built, and a wrong count of values throws', async () => {
  const registry = new Registry();
  const c = new BoundCounter({ name: 'r_total', help: 'R.', labelNames: ['type', 'category', 'result'] as const, registers: [registry] });
  const first = c.labels('user', 'a', 'hit');
  // Values built at run time (not the same string objects) find the same child.
  assert.equal(c.labels(['us', 'er'].join(''), `${'a'}`, 'hit'), first);
  c.labels('user', 'b', 'hit').inc(2);
  c.labels('account', 'a', 'hit').inc(3);
  first.inc();
  assert.notEqual(c.labels('user', 'a', 'miss'), first);
  assert.throws(() => c.labels('user', 'a'), /expected 3 label values/);
  assert.throws(() => c.labels('user', 'a', 'hit', 'extra'), /expected 3 label values/);
  const values = (await c.get()).values.map((v) => [v.labels, v.value]);
  assert.deepEqual(values, [
    [{ type: 'user', category: 'a', result: 'hit' }, 1],
    [{ type: 'user', category: 'b', result: 'hit' }, 2],
    [{ type: 'account', category: 'a', result: 'hit' }, 3],
  ]);
  c.reset();
  assert.notEqual(c.labels('user', 'a', 'hit'), first);
});
