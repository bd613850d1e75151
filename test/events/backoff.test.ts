import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../src/events/backoff.js';

const options = { initialMs: 200, maxMs: 5_000 };

test('backoff doubles per attempt, stays in the upper half of its window, and is capped', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 10, 1_000].map((n) => [backoffDelay(n, options, () => 0), backoffDelay(n, options, () => 1)]),
    [
      [100, 200],
      [200, 400],
      [400, 800],
      [800, 1_600],
      [1_600, 3_200],
      [2_500, 5_000],
      [2_500, 5_000],
      [2_500, 5_000],
    ],
  );
});
