import { randomFillSync } from 'node:crypto';

/**
 * Random (version 4) UUIDs for request ids, the same form as `crypto.randomUUID()` (lower-case
 * hex, RFC 9562 version and variant bits), made in batches.
 *
 * Why not `randomUUID()`: it builds each id by concatenating 20 pieces, a tree of string nodes
 * of ~0.6 KB that lives until the id is written; the service made one per request, about a
 * tenth of what a single read allocated (decision record 5, round 5). Here a batch of ids is
 * written as hex into one buffer from one draw of random bytes, and each id is cut from it
 * as one flat 36-character string.
 */

/** Ids per batch: one `randomFillSync` of 2 KiB (what `randomUUID` also draws at a time). */
const BATCH = 128;
const LENGTH = 36;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Offsets of the 16 bytes' hex pairs in `xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx`. */
const PAIRS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

const random = Buffer.alloc(16 * BATCH);
const text = Buffer.alloc(LENGTH * BATCH);
let next = BATCH;

function refill(): void {
  randomFillSync(random);
  for (let id = 0; id < BATCH; id++) {
    const r = id * 16;
    const t = id * LENGTH;
    // Version 4 in the high nibble of byte 6; variant 10xx in the high bits of byte 8.
    random[r + 6] = ((random[r + 6] as number) & 0x0f) | 0x40;
    random[r + 8] = ((random[r + 8] as number) & 0x3f) | 0x80;
    for (let i = 0; i < 16; i++) {
      const byte = random[r + i] as number;
      const at = t + (PAIRS[i] as number);
      text[at] = HEX[byte >> 4] as number;
      text[at + 1] = HEX[byte & 0x0f] as number;
    }
    text[t + 8] = text[t + 13] = text[t + 18] = text[t + 23] = 0x2d;
  }
  next = 0;
}

/** A new random UUID, as `crypto.randomUUID()` gives. */
export function requestUuid(): string {
  if (next === BATCH) refill();
  const start = next++ * LENGTH;
  return text.toString('latin1', start, start + LENGTH);
}
