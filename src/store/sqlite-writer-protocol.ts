import type { Synchronous } from './sqlite-schema.js';

/** Messages between `SqliteStore` (main thread) and its writer thread (sqlite-writer.ts). */

export interface WriterInit {
  path: string;
  synchronous: Synchronous;
  tables: readonly string[];
}

/** One record write, already serialized; `event` is inserted into the outbox in the same transaction. */
export interface RowWrite {
  table: string;
  entityValue: string;
  category: string;
  data: string;
  now: string;
  computeId: string | null;
  event?: { id: string; key: string; payload: string; createdAt: string };
}

export interface ClaimedRow {
  seq: number;
  event_id: string;
  msg_key: string;
  payload: string;
}

export type WriterCommand =
  | { op: 'write'; writes: RowWrite[] }
  | { op: 'claim'; owner: string; leaseUntil: number; now: number; limit: number }
  | { op: 'complete'; ids: string }
  | { op: 'release'; ids: string }
  | { op: 'close' };

export type WriterRequest = WriterCommand & { id: number };

export type WriterResult = string[] | ClaimedRow[] | null;

export type WriterResponse =
  | { id: number; ok: true; result: WriterResult }
  | { id: number; ok: false; error: { message: string; code: string | undefined; sqlite: boolean } }
  | { id: -1; ok: true; result: 'ready' }
  | { id: -1; ok: false; error: { message: string; code: string | undefined; sqlite: boolean } };
