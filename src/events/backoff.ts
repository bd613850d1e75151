export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  initialMs: number;
  /** Cap of the delay, ms. */
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1 for the first): exponential, capped, with "equal
 * jitter" (a random point in the upper half of the window), so that relays of several instances
 * that failed together do not retry in lockstep, yet never retry immediately.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const window = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(window / 2 + random() * (window / 2));
}
