/**
 * Which request a record write sends first (write-record.ts): the update of an existing record
 * or the put of a new one. Either order is correct — the requests' conditions decide, this only
 * guesses — but a wrong first guess costs a second request (a failed update, then the put; or a
 * failed put, then the update), so the guess follows evidence:
 *
 * - **Keys known to exist**: a bounded set of record keys this instance wrote or merged, least
 *   recently used first out. Reads add nothing: a batch read's hundreds of keys cost measurable
 *   CPU to remember (docs/decisions/3-dynamodb-cpu.md, round 7), and the share below already
 *   covers the keys a refresh writes without reading. A known key goes update-first. A delete through this
 *   instance forgets its key. Another instance's delete, or TTL expiry, is not seen: that write's
 *   update fails and the put follows, as for any missing record.
 * - **Unknown keys**: per table, a decaying share of the recent unknown keys that turned out new
 *   (the first request found no record) against those that turned out to exist. Put-first once
 *   more than half of them were new. It starts at "all existed", so a refresh after a restart (the
 *   keys exist, this instance has seen none) stays update-first with one request per write, and a
 *   load of new keys turns to put-first after about ten of them.
 *
 * No state here outlives the process or is shared between instances; a guess never decides an
 * outcome, so two instances (or workers) guessing differently only cost requests.
 */

/** Weight of one observation in the decaying share (about the last 16 unknown keys count). */
const DECAY = 1 / 16;
/**
 * Bytes one remembered key is counted at, besides two per character of the key: the Map entry
 * (with the table's spare capacity) and the string's header. Measured: 43,690 keys of 48
 * characters held 10.9 MB of heap, about 250 bytes each; counted at 160 + 96 = 256.
 */
const ENTRY_OVERHEAD_BYTES = 160;

export class WriteOrder {
  readonly #budget: number;
  /** Key → its counted bytes; Map order is use order (oldest first). */
  readonly #known = new Map<string, number>();
  #bytes = 0;
  /** Per table: the decaying share, from -1 (unknown keys all existed) to 1 (all were new). */
  readonly #newness = new Map<string, number>();

  /** `budgetBytes` 0 turns the guessing off: every write goes update-first (no memory used). */
  constructor(budgetBytes: number) {
    this.#budget = budgetBytes;
  }

  get enabled(): boolean {
    return this.#budget > 0;
  }

  /** Whether the record key `id` is remembered as existing. */
  knows(id: string): boolean {
    return this.#known.has(id);
  }

  /** Whether a write of `id` (in `table`) should try the put first. */
  putFirst(table: string, id: string): boolean {
    if (this.#budget === 0 || this.#known.has(id)) return false;
    return (this.#newness.get(table) ?? -1) > 0;
  }

  /** What the first request of a write of a key not remembered found: no record (`wasNew`) or one. */
  learn(table: string, wasNew: boolean): void {
    if (this.#budget === 0) return;
    const share = this.#newness.get(table) ?? -1;
    this.#newness.set(table, share + ((wasNew ? 1 : -1) - share) * DECAY);
  }

  /** The record `id` exists (this instance wrote or merged it): remembered, as the most recent. */
  remember(id: string): void {
    if (this.#budget === 0) return;
    const had = this.#known.get(id);
    if (had !== undefined) {
      this.#known.delete(id);
      this.#known.set(id, had);
      return;
    }
    const bytes = ENTRY_OVERHEAD_BYTES + 2 * id.length;
    this.#known.set(id, bytes);
    this.#bytes += bytes;
    while (this.#bytes > this.#budget) {
      const oldest = this.#known.entries().next().value;
      if (oldest === undefined) break;
      this.#known.delete(oldest[0]);
      this.#bytes -= oldest[1];
    }
  }

  /** The record `id` was deleted through this instance (or may have been). */
  forget(id: string): void {
    const had = this.#known.get(id);
    if (had === undefined) return;
    this.#known.delete(id);
    this.#bytes -= had;
  }

  /** Keys remembered and their counted bytes (for tests and diagnostics). */
  size(): { keys: number; bytes: number } {
    return { keys: this.#known.size, bytes: this.#bytes };
  }
}
