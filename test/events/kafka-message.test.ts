import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toKafkaMessage } from '../../src/events/kafka-publisher.js';
import { outboxEventFromText } from '../../src/model.js';
import { outboxEvent } from '../support/fixtures.js';

test('a Kafka message carries the key, the JSON content-type header and the event as JSON', () => {
  const e = outboxEvent('user-1');
  const message = toKafkaMessage(e);
  assert.equal(message.key, 'bright_uid:user-1');
  assert.deepEqual(message.headers, { 'content-type': 'application/json' });
  assert.equal(message.value, JSON.stringify(e.event));
});

test("an event read from the outbox's text is sent as that text, not serialized again", () => {
  const e = outboxEvent('user-2');
  // Text that JSON.stringify of the event would not give (spacing): proves which one is sent.
  const text = JSON.stringify(e.event, null, 1);
  const read = outboxEventFromText(e.id, e.key, JSON.parse(text) as typeof e.event, text);
  assert.deepEqual(read, e);
  assert.equal(toKafkaMessage(read).value, text);
  // A copy (a spread) is an event built from another: it has no text and is serialized.
  assert.equal(toKafkaMessage({ ...read }).value, JSON.stringify(e.event));
});
