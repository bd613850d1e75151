import { withMeta, type FeatureRecord } from '../model.js';
import { formatTimestamp } from '../timestamps.js';

/**
 * Expiry per category (`CATEGORY_TTL`), counted from a record's latest write. The TTL in force
 * at a read decides what the read shows, whether or not the store removed the record yet; the
 * store keeps the expiry of each write (`expiresAt`) for the physical removal.
 */
export interface Expiry {
  /**
   * A stored record as reads show it: `undefined` from the millisecond its TTL has run out, else
   * with `meta.expires_at` while its category has a TTL. Records of other categories pass
   * through untouched (their bytes stay as they were).
   */
  visible(record: FeatureRecord | undefined, nowMs: number): FeatureRecord | undefined;
  /**
   * `visible` for a record given as its category and canonical `updated_at` (a read of stored
   * text): the `meta.expires_at` it shows, null from the millisecond it has expired (the read
   * shows no record), undefined when its category has no TTL.
   */
  shownExpiry(category: string, updatedAt: string, nowMs: number): string | null | undefined;
  /** Whether `category` has a TTL (else `shownExpiry` is undefined whatever the record). */
  hasTtl(category: string): boolean;
  /** The expiry a write at `nowMs` gives the record, or undefined: the category has no TTL. */
  expiresAt(category: string, nowMs: number): string | undefined;
  /** Records of `category` last written before this time have expired at `nowMs` (undefined: no TTL). */
  expiredBefore(category: string, nowMs: number): string | undefined;
}

export function createExpiry(ttlMs: Readonly<Record<string, number>>): Expiry {
  const ttls = new Map(Object.entries(ttlMs));
  function shownExpiry(category: string, updatedAt: string, nowMs: number): string | null | undefined {
    const ttl = ttls.get(category);
    if (ttl === undefined) return undefined;
    const expires = Date.parse(updatedAt) + ttl;
    return nowMs >= expires ? null : formatTimestamp(new Date(expires));
  }
  return {
    visible(record, nowMs) {
      if (record === undefined) return undefined;
      const expiresAt = shownExpiry(record.category, record.meta.updated_at, nowMs);
      if (expiresAt === undefined) return record;
      return expiresAt === null ? undefined : withMeta(record, { ...record.meta, expires_at: expiresAt });
    },
    shownExpiry,
    hasTtl: (category) => ttls.has(category),
    expiresAt(category, nowMs) {
      const ttl = ttls.get(category);
      return ttl === undefined ? undefined : formatTimestamp(new Date(nowMs + ttl));
    },
    expiredBefore(category, nowMs) {
      const ttl = ttls.get(category);
      // Visible while nowMs < updated + ttl, i.e. updated ≥ nowMs − ttl + 1 (millisecond times).
      return ttl === undefined ? undefined : formatTimestamp(new Date(nowMs - ttl + 1));
    },
  };
}
