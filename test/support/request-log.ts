import type { IncomingMessage } from 'node:http';

/**
 * DynamoDB requests seen by one server, by operation (`GetItem`, `UpdateItem`, …), counted where
 * they arrive: the real wire traffic, retries included, nothing mocked.
 */
export class RequestLog {
  readonly #counts = new Map<string, number>();

  record(operation: string): void {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
  }

  /** Counts by operation since the last reset, e.g. `{ UpdateItem: 1 }`. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  total(): number {
    let n = 0;
    for (const c of this.#counts.values()) n += c;
    return n;
  }

  reset(): void {
    this.#counts.clear();
  }

  /** The counts of the requests `fn` causes. */
  async during(fn: () => Promise<unknown>): Promise<Record<string, number>> {
    return (await this.counting(fn)).counts;
  }

  /** What `fn` returned, and the counts of the requests it caused. */
  async counting<T>(fn: () => Promise<T>): Promise<{ result: T; counts: Record<string, number> }> {
    this.reset();
    const result = await fn();
    return { result, counts: this.counts() };
  }
}

/** The DynamoDB operation of a request (`X-Amz-Target: DynamoDB_20120810.GetItem` → `GetItem`). */
export function operationOf(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  const value = Array.isArray(target) ? target[0] : target;
  return value?.split('.').pop() ?? 'unknown';
}
