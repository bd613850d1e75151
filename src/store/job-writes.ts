import type { FeatureEvent } from '../model.js';
import type { JobWrites } from './ports.js';

/** One write that counts towards its compute job's statistics. */
export interface CountedWrite {
  readonly computeId: string;
  readonly entityType: string;
  readonly category: string;
  /** Canonical `updated_at` of the write. */
  readonly at: string;
}

/**
 * The write a change event stands for, if it counts: a `feature_available` event (a write or a
 * merge) that carries a compute_id. Deletes and expiries are not writes of any job.
 */
export function countedWriteOf(event: FeatureEvent): CountedWrite | undefined {
  if (event.event_type !== 'feature_available' || event.compute_id === null || event.compute_id === '') return undefined;
  return { computeId: event.compute_id, entityType: event.entity_type, category: event.resource_name, at: event.timestamp };
}

/** The same from the event's fields as stored (the SQLite outbox extracts them from the JSON). */
export function countedWriteOfFields(
  eventType: unknown,
  computeId: unknown,
  entityType: unknown,
  category: unknown,
  at: unknown,
): CountedWrite | undefined {
  if (eventType !== 'feature_available' || typeof computeId !== 'string' || computeId === '') return undefined;
  return { computeId, entityType: String(entityType), category: String(category), at: String(at) };
}

interface Sum {
  writes: number;
  firstWriteAt: string;
  lastWriteAt: string;
  categories: Record<string, number>;
  entityTypes: Record<string, number>;
}

/** Sums counted writes per compute job (one `JobWrites` per job, for `ComputeJobStatsStore.add`). */
export class JobWritesSum {
  readonly #jobs = new Map<string, Sum>();

  get size(): number {
    return this.#jobs.size;
  }

  add(write: CountedWrite): void {
    let sum = this.#jobs.get(write.computeId);
    if (sum === undefined) {
      this.#jobs.set(write.computeId, (sum = { writes: 0, firstWriteAt: write.at, lastWriteAt: write.at, categories: {}, entityTypes: {} }));
    }
    sum.writes++;
    if (write.at < sum.firstWriteAt) sum.firstWriteAt = write.at;
    if (write.at > sum.lastWriteAt) sum.lastWriteAt = write.at;
    sum.categories[write.category] = (sum.categories[write.category] ?? 0) + 1;
    sum.entityTypes[write.entityType] = (sum.entityTypes[write.entityType] ?? 0) + 1;
  }

  /** Adds sums drained earlier (to try them again). */
  merge(writes: readonly JobWrites[]): void {
    for (const w of writes) {
      const sum = this.#jobs.get(w.computeId);
      if (sum === undefined) {
        this.#jobs.set(w.computeId, { writes: w.writes, firstWriteAt: w.firstWriteAt, lastWriteAt: w.lastWriteAt, categories: { ...w.categories }, entityTypes: { ...w.entityTypes } });
        continue;
      }
      sum.writes += w.writes;
      if (w.firstWriteAt < sum.firstWriteAt) sum.firstWriteAt = w.firstWriteAt;
      if (w.lastWriteAt > sum.lastWriteAt) sum.lastWriteAt = w.lastWriteAt;
      for (const [name, n] of Object.entries(w.categories)) sum.categories[name] = (sum.categories[name] ?? 0) + n;
      for (const [name, n] of Object.entries(w.entityTypes)) sum.entityTypes[name] = (sum.entityTypes[name] ?? 0) + n;
    }
  }

  /** Adds the write `event` stands for, if it counts. */
  addEvent(event: FeatureEvent): void {
    const write = countedWriteOf(event);
    if (write !== undefined) this.add(write);
  }

  /** The sums so far, one per job; the sum starts again from nothing. */
  drain(): JobWrites[] {
    const out = [...this.#jobs].map(([computeId, s]) => ({ computeId, ...s }));
    this.#jobs.clear();
    return out;
  }
}

/** The per-job sums of the counted writes among `events`. */
export function jobWritesOf(events: Iterable<FeatureEvent>): JobWrites[] {
  const sum = new JobWritesSum();
  for (const event of events) sum.addEvent(event);
  return sum.drain();
}
