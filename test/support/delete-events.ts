import assert from 'node:assert/strict';
import { isRecord, type Collector, type ConsumedMessage } from './kafka-consumer.js';
import { eventSchemaErrors, write } from './kafka-service.js';

async function del(url: string): Promise<number> {
  const res = await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
  await res.text();
  return res.status;
}

/**
 * Writes two categories of `entityValue`, deletes one, erases the entity, and checks that the
 * topic carries both writes' events, then one `feature_deleted` event per deleted record, each
 * conforming to docs/event.schema.json and naming the deleted features.
 */
export async function assertDeleteEventsPublished(baseUrl: string, consumed: Collector, entityValue: string): Promise<void> {
  assert.equal((await write(baseUrl, { entityValue, features: { b: 1, a: 2 } })).status, 200);
  assert.equal((await write(baseUrl, { entityValue, category: 'ncr_unauth_features', features: { c: 3 } })).status, 200);
  const path = `${baseUrl}/api/v1/items/bright_uid/${encodeURIComponent(entityValue)}`;
  assert.equal(await del(`${path}/d0_unauth_features?source=prediction_service`), 200);
  assert.equal(await del(`${path}?source=prediction_service`), 200);

  const key = `bright_uid:${entityValue}`;
  const firstDeliveries = (): ConsumedMessage[] => {
    const seen = new Set<string>();
    return consumed.messages.filter((m) => {
      if (m.key !== key || !isRecord(m.value) || seen.has(String(m.value.event_id))) return false;
      seen.add(String(m.value.event_id));
      return true;
    });
  };
  await consumed.waitFor(() => firstDeliveries().length >= 4, 30_000, `4 events of ${key}`);
  const events = firstDeliveries().map((m) => m.value);
  for (const e of events) assert.deepEqual(eventSchemaErrors(e), [], 'the value conforms to docs/event.schema.json');
  assert.deepEqual(
    events.map((e) => (isRecord(e) ? [e.event_type, e.resource_name, e.compute_id, e.features, e.entity_id] : e)),
    [
      ['feature_available', 'd0_unauth_features', null, ['b', 'a'], entityValue],
      ['feature_available', 'ncr_unauth_features', null, ['c'], entityValue],
      ['feature_deleted', 'd0_unauth_features', null, ['b', 'a'], entityValue],
      ['feature_deleted', 'ncr_unauth_features', null, ['c'], entityValue],
    ],
  );
}
