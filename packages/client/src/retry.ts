/** Statuses worth a retry: the service is overloaded, throttled or unavailable for a moment. */
export const RETRIED_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** The first retry waits about this long without a `Retry-After`; each next one twice as long. */
const BASE_DELAY_MS = 100;

/**
 * How long to wait before retry number `attempt` (0-based): the response's `Retry-After`
 * (delay-seconds or an HTTP date) when it has one, else exponential backoff with full jitter;
 * never more than `maxDelayMs`.
 */
export function retryDelayMs(retryAfter: string | null, attempt: number, maxDelayMs: number, now = Date.now()): number {
  const given = parseRetryAfter(retryAfter, now);
  const delay = given ?? Math.random() * BASE_DELAY_MS * 2 ** attempt;
  return Math.min(Math.max(0, delay), maxDelayMs);
}

/** `Retry-After` in milliseconds from `now`, or undefined when absent or unreadable (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
