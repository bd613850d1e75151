import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTimestamp, normalizeTimestamp, parseRfc3339 } from '../src/timestamps.js';

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

test('client event times: RFC 3339 with any offset become canonical; anything else is refused', () => {
  const valid: [string, string][] = [
    ['2025-10-16T12:00:00+02:00', '2025-10-16T10:00:00.000Z'],
    ['2025-10-16T10:00:00Z', '2025-10-16T10:00:00.000Z'],
    ['2025-10-16t10:00:00.123456789z', '2025-10-16T10:00:00.123Z'],
    ['2025-10-16 05:30:00.5-04:30', '2025-10-16T10:00:00.500Z'],
    ['2025-01-01T00:30:00+01:00', '2024-12-31T23:30:00.000Z'],
    ['2024-02-29T23:59:59.999-00:00', '2024-02-29T23:59:59.999Z'],
    ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00.000Z'],
  ];
  for (const [input, expected] of valid) assert.equal(parseRfc3339(input), expected, input);
  const invalid = [
    '2025-10-16T10:00:00', // no offset
    '2025-10-16',
    '2025-02-30T10:00:00Z', // no such day
    '2025-02-29T10:00:00Z',
    '2025-13-01T10:00:00Z',
    '2025-10-16T24:00:00Z',
    '2025-10-16T10:60:00Z',
    '2025-12-31T23:59:60Z', // a leap second cannot be represented
    '2025-10-16T10:00:00+24:00',
    '2025-10-16T10:00:00+0200',
    '0000-01-01T00:30:00+01:00', // before year 0000 in UTC
    '9999-12-31T23:30:00-01:00', // after 9999 in UTC
    '1760608800',
    ' 2025-10-16T10:00:00Z',
    '',
  ];
  for (const input of invalid) assert.equal(parseRfc3339(input), undefined, input);
});
