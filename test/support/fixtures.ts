import { randomUUID } from 'node:crypto';
import type { OutboxEvent } from '../../src/model.js';
import type { LegacyRecord } from './backend.js';

/** A change event for the outbox of a `bright_uid` record, as the service builds it. */
export function outboxEvent(
  entityValue: string,
  options: { id?: string; timestamp?: string; category?: string; features?: string[] } = {},
): OutboxEvent {
  const id = options.id ?? randomUUID();
  return {
    id,
    key: `bright_uid:${entityValue}`,
    event: {
      event_id: id,
      event_type: 'feature_available',
      timestamp: options.timestamp ?? '2025-10-16T10:00:00.000Z',
      entity_type: 'bright_uid',
      entity_id: entityValue,
      resource_type: 'feature',
      resource_name: options.category ?? 'd0_unauth_features',
      compute_id: null,
      event_time: null,
      features: options.features ?? ['credit_score'],
    },
  };
}

/** A fixed, readable event id: `00000000-0000-4000-8000-<n padded to 12>`. */
export function eventId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/** A `bright_uid` record as the old service stored it (microsecond `+00:00` timestamps). */
export function legacyRecord(entityValue: string, category = 'd0_unauth_features'): LegacyRecord {
  return {
    entityType: 'bright_uid',
    entityValue,
    category,
    data: { a: 1 },
    createdAt: '2025-10-16T10:00:00.123456+00:00',
    updatedAt: '2025-10-16T10:00:00.123456+00:00',
    computeId: 'legacy-job',
  };
}
