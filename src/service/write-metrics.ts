import type { Metrics } from '../metrics.js';
import type { RecordKey } from '../store/ports.js';

/**
 * The metrics of one applied write or merge: the write count, the freshness gauge (time of the
 * latest write of the entity type and category) and whether it named its compute job. Labels
 * come from configuration (entity types, the category allow-list), never from the request's
 * values; a few label lookups, no I/O.
 */
export function countWrite(metrics: Metrics, key: RecordKey, computeId: string | null | undefined, nowMs: number): void {
  const labels = { entity_type: key.entityType, category: key.category };
  metrics.writes.inc(labels);
  metrics.lastWrite.set(labels, nowMs / 1000);
  metrics.lineageWrites.inc({ compute_id: computeId === null || computeId === undefined || computeId === '' ? 'absent' : 'present' });
}
