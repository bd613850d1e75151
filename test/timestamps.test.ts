import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTimestamp, normalizeTimestamp } from '../src/timestamps.js';

test('timestamps are RFC 3339 UTC with milliseconds, fixed width', () => {
  assert.equal(formatTimestamp(new Date(Date.UTC(2025, 9, 16, 10, 0, 0, 0))), '2025-10-16T10:00:00.000Z');
});

test("the old service's timestamps are normalized without rounding into the next second", () => {
  const cases: [string, string][] = [
    ['2025-10-16T10:00:00.123456+00:00', '2025-10-16T10:00:00.123Z'],
    ['2025-10-16T10:00:59.999999+00:00', '2025-10-16T10:00:59.999Z'],
    ['2025-10-16T10:00:00+00:00', '2025-10-16T10:00:00.000Z'],
    ['2025-10-16T10:00:00.5Z', '2025-10-16T10:00:00.500Z'],
    ['2025-10-16 10:00:00.123456+00:00', '2025-10-16T10:00:00.123Z'],
    ['2025-10-16T12:00:00.250+02:00', '2025-10-16T10:00:00.250Z'],
    ['2025-10-16T10:00:00.000Z', '2025-10-16T10:00:00.000Z'],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeTimestamp(input), expected, input);
  assert.equal(normalizeTimestamp('not a time'), 'not a time');
});
