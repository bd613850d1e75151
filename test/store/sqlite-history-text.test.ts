import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ComputeHistoryEntry } from '../../src/model.js';
import { nextHistory } from '../../src/store/sqlite/rows.js';

/** The history after a write, as parsed entries (what nextHistory must equal, byte for byte once serialized). */
function expected(size: number, computeId: string | null, now: string, stored: string | null): string {
  const entries = stored === null ? [] : (JSON.parse(stored) as ComputeHistoryEntry[]);
  entries.unshift({ compute_id: computeId, timestamp: now });
  return JSON.stringify(entries.slice(0, size));
}

// Compute ids that look like the text between two entries, quotes, brackets, non-ASCII, null.
const IDS = ['job-1', null, '},{"compute_id":"x', 'a"b', '}]', '[{"compute_id":', 'ü/é ✓', '', '\\', 'job-2'];

test('the next compute history is the stored one with the new entry first, cut to the size, for any compute ids', () => {
  for (const size of [1, 2, 3, 10, 100]) {
    let stored: string | null = null;
    for (let i = 0; i < 25; i++) {
      const computeId = IDS[i % IDS.length] as string | null;
      const now = new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString();
      const next = nextHistory({ historySize: size, computeId, now }, stored);
      assert.equal(next, expected(size, computeId, now, stored), `size ${size}, write ${i}`);
      stored = next;
    }
  }
});

test('a stored history in another layout (an empty array, spaces) is read as JSON', () => {
  const now = '2025-01-01T00:00:00.000Z';
  assert.equal(nextHistory({ historySize: 2, computeId: 'j', now }, '[]'), '[{"compute_id":"j","timestamp":"2025-01-01T00:00:00.000Z"}]');
  const spaced = '[ {"compute_id": "a", "timestamp": "t1"}, {"compute_id": "b", "timestamp": "t2"} ]';
  assert.equal(nextHistory({ historySize: 2, computeId: 'j', now }, spaced), expected(2, 'j', now, spaced));
});

test('history off: null, the stored history is kept as it is', () => {
  assert.equal(nextHistory({ historySize: 0, computeId: 'j', now: 'x' }, '[{"compute_id":"a","timestamp":"t"}]'), null);
});
