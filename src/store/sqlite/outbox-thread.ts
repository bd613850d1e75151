/**
 * The outbox port as the store hands it to the relay: claim, complete (with the job statistics),
 * release and stats run on the bookkeeping thread's connection (checkpointer.ts,
 * bookkeeping-worker.ts), by `SqliteOutbox` there, so the event loop that serves requests spends
 * only two messages per round on them. Same file, same statements, same transactions: every
 * guarantee of `SqliteOutbox` holds as it was, and two relays (or processes) coordinate through
 * the lease columns as before.
 *
 * If the thread is gone (it could not start, or died), the operations run on the store's own
 * connection (`local`), as before the thread: an event claimed on the thread is then completed
 * or released by id, which `SqliteOutbox` does for events it did not claim itself.
 */
import { outboxEventOfText, type OutboxEvent } from '../../model.js';
import type { OutboxStats, OutboxStore } from '../ports.js';
import type { ClaimedColumns } from './bookkeeping-protocol.js';
import type { Checkpointer } from './checkpointer.js';
import type { SqliteOutbox } from './outbox.js';

export class ThreadOutbox implements OutboxStore {
  readonly #thread: Checkpointer;
  readonly #local: SqliteOutbox;

  constructor(thread: Checkpointer, local: SqliteOutbox) {
    this.#thread = thread;
    this.#local = local;
  }

  async claim(owner: string, limit: number, leaseMs: number): Promise<OutboxEvent[]> {
    if (!this.#thread.available) return this.#local.claim(owner, limit, leaseMs);
    const { ids, keys, texts } = (await this.#thread.request({ op: 'claim', owner, limit, leaseMs })) as ClaimedColumns;
    return ids.map((id, i) => outboxEventOfText(id, keys[i] ?? '', texts[i] ?? ''));
  }

  async complete(ids: readonly string[]): Promise<void> {
    if (!this.#thread.available) return this.#local.complete(ids);
    await this.#thread.request({ op: 'complete', ids });
  }

  async release(ids: readonly string[]): Promise<void> {
    if (!this.#thread.available) return this.#local.release(ids);
    await this.#thread.request({ op: 'release', ids });
  }

  async stats(): Promise<OutboxStats> {
    if (!this.#thread.available) return this.#local.stats();
    return (await this.#thread.request({ op: 'stats' })) as OutboxStats;
  }
}
