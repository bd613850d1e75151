import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchReadJson, jsonString, multiReadJson, recordJson } from '../../src/http/response-json.js';
import { batchReadResponse, multiReadResponse, recordResponse } from '../../src/http/responses.js';
import { recordFromText, withMeta, type FeatureRecord, type RecordMeta } from '../../src/model.js';

/**
 * The spliced response texts against `JSON.stringify` of the response objects, for the strings
 * and metadata the hand-written serialization shortcuts (`jsonString`, the metadata's JSON) must
 * get exactly right: escapes, control characters, paired and unpaired surrogates, U+2028, null
 * compute ids, an event time, an expiry, keys in other orders.
 */

const STRINGS = ['', 'user-1', 'a"b', 'back\\slash', 'line\nbreak', '\u0000', '\u001f', '\u007f', '\u2028', 'é', '😀', '\ud800', 'x\udfff', '\ud83d\ude00z', '</script>'];

test('jsonString is JSON.stringify for every UTF-16 code unit and the awkward strings', () => {
  for (let c = 0; c < 0x10000; c++) {
    const s = String.fromCharCode(c);
    assert.equal(jsonString(s), JSON.stringify(s));
    assert.equal(jsonString(`a${s}b`), JSON.stringify(`a${s}b`));
  }
  for (const s of STRINGS) assert.equal(jsonString(s), JSON.stringify(s));
});

const T = '2025-10-16T10:00:00.000Z';
const metas: RecordMeta[] = [
  { created_at: T, updated_at: T, compute_id: null },
  { created_at: T, updated_at: T, compute_id: 'job-1', event_time: T },
  { created_at: T, updated_at: T, compute_id: 'job "quoted" \u2028 \ud800', event_time: T, expires_at: T },
  { compute_id: 'first', updated_at: T, created_at: '2025-10-16T10:00:00.123456+00:00' },
  { created_at: T, updated_at: T, compute_id: null, event_time: undefined },
  { created_at: T, updated_at: T, compute_id: 7 } as unknown as RecordMeta,
];

function records(entityValue: string): FeatureRecord[] {
  // Half from text with their metadata, half given it afterwards (as expiry does).
  return metas.map((meta, i) => {
    const record = recordFromText({ entityType: 'bright_uid', entityValue, category: `cat_${i}`, meta: i % 2 === 0 ? meta : (metas[0] as RecordMeta) }, JSON.stringify({ f: i, s: STRINGS[i % STRINGS.length] }));
    return i % 2 === 0 ? record : withMeta(record, meta);
  });
}

test('record, multi-read and batch texts are JSON.stringify of the response objects, byte for byte', () => {
  for (const entityValue of STRINGS) {
    const found = records(entityValue);
    for (const record of found) assert.equal(recordJson(record), JSON.stringify(recordResponse(record)));
    const selection = { entityType: 'bright_uid', entityValue, records: found, unavailable: entityValue === '' ? [] : ['missing', entityValue] };
    assert.equal(multiReadJson(selection), JSON.stringify(multiReadResponse(selection)));
  }
  const batch = {
    entityType: 'bright_uid',
    results: STRINGS.map((entityValue, i) => ({
      entityType: 'bright_uid',
      entityValue,
      records: records(entityValue).slice(0, i % 4),
      unavailable: i % 3 === 0 ? [] : ['cat_x'],
    })),
  };
  assert.equal(batchReadJson(batch), JSON.stringify(batchReadResponse(batch)));
});

test('a record from text keeps its data lazily, copies without its text, compares as a plain record', () => {
  const record = recordFromText({ entityType: 'bright_uid', entityValue: 'u', category: 'c', meta: metas[0] as RecordMeta }, '{"a":1,"b":[2]}');
  assert.deepEqual(Object.keys(record), ['entityType', 'entityValue', 'category', 'data', 'meta']);
  assert.deepEqual(record, { entityType: 'bright_uid', entityValue: 'u', category: 'c', data: { a: 1, b: [2] }, meta: metas[0] });
  assert.equal(record.data, record.data, 'parsed once');
  const copy = { ...record, data: { other: true } };
  assert.equal(recordJson(copy), JSON.stringify(recordResponse(copy)));
  assert.match(recordJson(copy), /"data":\{"other":true\}/);
  assert.equal(JSON.stringify(record), '{"entityType":"bright_uid","entityValue":"u","category":"c","data":{"a":1,"b":[2]},"meta":{"created_at":"2025-10-16T10:00:00.000Z","updated_at":"2025-10-16T10:00:00.000Z","compute_id":null}}');
});
