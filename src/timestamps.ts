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

/** Whether `value` is a timestamp in the canonical form (`normalizeTimestamp` returns it as it is). */
export function isCanonicalTimestamp(value: string): boolean {
  return CANONICAL.test(value);
}

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

// RFC 3339 `date-time` as a client sends it: `T` (or `t`/space), an optional fraction of any
// length, and a required offset (`Z`, `z` or ±hh:mm).
const CLIENT_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 date-time with any offset into the canonical form (`2025-10-16T12:00:00+02:00`
 * → `2025-10-16T10:00:00.000Z`), or returns undefined when it is not one: no offset, an
 * impossible calendar date (`02-30`), hour 24, a leap second (`:60`, which no timestamp here can
 * represent), an offset beyond ±23:59, or a result outside years 0000–9999. The fraction is
 * truncated to milliseconds, as `normalizeTimestamp` does.
 */
export function parseRfc3339(value: string): string | undefined {
  const m = CLIENT_DATE_TIME.exec(value);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const millis = Number(((m[7] ?? '') + '000').slice(0, 3));
  const offsetHours = m[8] === undefined ? Number(m[10]) : 0;
  const offsetMinutes = m[8] === undefined ? Number(m[11]) : 0;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, second, millis);
  // Date rolls impossible dates over (Feb 30 → Mar 2); a real date comes back unchanged.
  if (local.getUTCFullYear() !== year || local.getUTCMonth() !== month - 1 || local.getUTCDate() !== day) return undefined;
  const sign = m[9] === '-' ? -1 : 1;
  const utc = new Date(local.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
  const year_ = utc.getUTCFullYear();
  if (year_ < 0 || year_ > 9999) return undefined;
  return utc.toISOString();
}
