import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { KeyPartitioner, murmur2 } from '../../src/events/key-partitioner.js';

/** Kafka's own test vectors for `Utils.murmur2` (clients/src/test/.../UtilsTest.java). */
const JAVA_VECTORS: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

function metadata(partitions: number, leaderless: number[] = []): PartitionMetadata[] {
  return Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    replicas: [0],
    isr: [0],
  }));
}

/** Keys of every length 0..64 in bytes: ASCII, multi-byte UTF-8, and the shape of change event keys. */
function sampleKeys(): string[] {
  const keys: string[] = ['', 'bright_uid:user-12345', 'bright_uid:u0', 'é', 'ü€😀', 'ñandú:グループ'];
  for (let length = 0; length <= 64; length++) {
    keys.push(randomBytes(length).toString('latin1').slice(0, length));
    keys.push('x'.repeat(length));
    keys.push(`bright_uid:u${length * 7919}`.padEnd(length, '9'));
  }
  for (let i = 0; i < 500; i++) keys.push(`entity_${i % 7}:${randomBytes(1 + (i % 40)).toString('base64')}`);
  return keys;
}

test("murmur2 gives Kafka's test vectors", () => {
  for (const [key, hash] of JAVA_VECTORS) assert.equal(murmur2(key), hash, key);
});

test('murmur2 of a string equals murmur2 of its UTF-8 bytes', () => {
  for (const key of sampleKeys()) assert.equal(murmur2(key), murmur2(Buffer.from(key, 'utf8')), key);
});

test("KeyPartitioner picks kafkajs's DefaultPartitioner's partition for every key and partition count", () => {
  const ours = KeyPartitioner();
  const theirs = Partitioners.DefaultPartitioner();
  const keys = sampleKeys();
  for (let partitions = 1; partitions <= 12; partitions++) {
    // Keyed messages go by hash over all partitions, also those without a leader (as in Java).
    const partitionMetadata = metadata(partitions, partitions > 2 ? [1] : []);
    for (const key of keys) {
      for (const k of [key, Buffer.from(key, 'utf8')]) {
        const args = { topic: 't', partitionMetadata, message: { key: k, value: 'v' } };
        assert.equal(ours(args), theirs(args), `${JSON.stringify(key)} over ${partitions} partitions`);
      }
    }
  }
});

test('KeyPartitioner honours an explicit partition and refuses a message without a key', () => {
  const ours = KeyPartitioner();
  const partitionMetadata = metadata(3);
  assert.equal(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: 'v', partition: 2 } }), 2);
  assert.throws(() => ours({ topic: 't', partitionMetadata, message: { value: 'v' } }), /without a key/);
});
