import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets a heap's old generation grow past what survived its last full collection
 * before the next one, percent. V8 chooses a factor of 1.1 to 4 from its own speed estimates;
 * under the service's write load (fast allocation, a full collection cheap against it) it
 * chose the top: with ~25 MiB live, the main thread's heap reached 120 MiB of mostly garbage
 * before a full collection, and the process's peak RSS 230 MB with events on
 * (docs/decisions/8-event-relay-cpu.md, round 2). At 25 % the heap stays within 1.25 × its live
 * data (plus the young generation), at a full collection every few seconds under load instead
 * of every ~25 s: a few ms each on the main thread, most of the marking concurrent.
 */
export const HEAP_GROWING_PERCENT = 25;

/**
 * Sets V8's heap growing factor for every isolate of the process (the main thread's and the
 * worker threads'). V8 reads it whenever it sets a heap's next limit, so setting it at start,
 * before the heaps grow, is enough.
 */
export function boundHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
