/**
 * Timestamps on the wire and in storage: RFC 3339 UTC, millisecond precision, `Z`, fixed width
 * (`2025-10-16T10:00:00.000Z`), which is exactly what `Date.prototype.toISOString` produces for
 * years 0000–9999.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

export function formatTimestamp(date: Date): string {
  return date.toISOString();
}

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// Any RFC 3339 date-time: optional fraction of any length, `Z` or a numeric offset.
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$/;

/**
 * Converts a stored timestamp to the canonical form. Records written by the old service carry
 * `+00:00` and microseconds (`2025-10-16T10:00:00.123456+00:00`); the fraction is truncated to
 * milliseconds (never rounded up into the next second). Returns the input unchanged if it is
 * not a date-time at all, so a damaged value is visible rather than invented.
 */
export function normalizeTimestamp(value: string): string {
  if (CANONICAL.test(value)) return value;
  const m = RFC3339.exec(value);
  if (m === null) return value;
  const [, date, time, fraction = '', offset = 'Z'] = m;
  const millis = (fraction + '000').slice(0, 3);
  const upper = offset.toUpperCase();
  if (upper === 'Z' || upper === '+00:00' || upper === '-00:00') return `${date}T${time}.${millis}Z`;
  const parsed = new Date(`${date}T${time}.${millis}${offset}`);
  return Number.isNaN(parsed.getTime()) ? value : parsed.toISOString();
}
