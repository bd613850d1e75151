/**
 * The messages between the store and its bookkeeping thread (bookkeeping-worker.ts): the relay's
 * outbox operations as requests with an id, answered once each.
 */

/** What the store passes at the start (structured-cloned: plain data). */
export interface BookkeepingWorkerData {
  /** The database file (already migrated by the store). */
  readonly path: string;
  /** How often the thread checkpoints the WAL, ms. */
  readonly checkpointIntervalMs: number;
  /** The cell of the store's `WriteTurns` (write-turns.ts): the thread's writes wait for its turn. */
  readonly turns: SharedArrayBuffer;
}

export type BookkeepingRequest =
  | { readonly id: number; readonly op: 'claim'; readonly owner: string; readonly limit: number; readonly leaseMs: number }
  | { readonly id: number; readonly op: 'complete' | 'release'; readonly ids: readonly string[] }
  | { readonly id: number; readonly op: 'stats' };

/**
 * A claim's events as three arrays (ids, keys, stored JSON texts), in seq order: three arrays of
 * strings are cheaper to clone than as many objects.
 */
export interface ClaimedColumns {
  readonly ids: readonly string[];
  readonly keys: readonly string[];
  readonly texts: readonly string[];
}

export type BookkeepingValue = ClaimedColumns | { readonly pending: number; readonly oldestCreatedAt: string | null } | undefined;

/** `unavailable`: a SQLite failure (the store's `StoreUnavailableError`); otherwise a bug. */
export interface WireFailure {
  readonly message: string;
  readonly unavailable: boolean;
}

export type BookkeepingReply =
  | { readonly id: number; readonly value: BookkeepingValue }
  | { readonly id: number; readonly failure: WireFailure };

/** Sent to the thread to end it (it closes its connection first). */
export const CLOSE = 'close';
