import { maxVersionsKept, type VersionsConfig } from '../config-sections.js';
import { InvalidInputError, ItemNotFoundError, NotYetWrittenError, VersionNotKeptError } from '../errors.js';
import { withData, type FeatureRecord } from '../model.js';
import type { RecordKey, RecordStore, RecordVersion } from '../store/ports.js';
import { parseRfc3339 } from '../timestamps.js';

/** One version of a record as the versions endpoint lists it (the current one first). */
export interface VersionOutput {
  computeId: string | null;
  updatedAt: string;
  eventTime: string | undefined;
  data: FeatureRecord['data'];
}

export interface VersionsOutput {
  key: RecordKey;
  versions: VersionOutput[];
}

const AS_OF_MESSAGE = 'Input should be a valid datetime: RFC 3339 with a time zone offset, e.g. 2025-10-16T12:00:00+02:00 or 2025-10-16T10:00:00.000Z';

/** `as_of` as sent → canonical, or a 422 at `["query","as_of"]`. */
export function parseAsOf(value: string): string {
  const asOf = parseRfc3339(value);
  if (asOf === undefined) throw new InvalidInputError([{ field: 'as_of', type: 'datetime_parsing', message: AS_OF_MESSAGE }]);
  return asOf;
}

/**
 * Versions and point-in-time reads (README "Versions and rollback"). `checked` is the caller's
 * read checks (allow-list, entity type) and its TTL rule: a record that reads as missing now
 * has no versions either.
 */
export function versionReads(deps: {
  store: RecordStore;
  config: VersionsConfig;
  visible: (record: FeatureRecord | undefined) => FeatureRecord | undefined;
  checkReadable: (key: RecordKey) => void;
}) {
  const { store, config, visible, checkReadable } = deps;
  const limit = maxVersionsKept(config);

  async function load(key: RecordKey): Promise<{ record: FeatureRecord; earlier: RecordVersion[] }> {
    checkReadable(key);
    const found = await store.getVersions(key, limit);
    const record = visible(found?.record);
    if (found === undefined || record === undefined) throw new ItemNotFoundError(key.entityValue, key.category);
    return { record, earlier: found.earlier };
  }

  /** The current version, then the kept earlier ones, newest first. */
  async function readVersions(key: RecordKey): Promise<VersionsOutput> {
    const { record, earlier } = await load(key);
    const current: VersionOutput = { computeId: record.meta.compute_id, updatedAt: record.meta.updated_at, eventTime: record.meta.event_time, data: record.data };
    const rest = earlier.map((v): VersionOutput => ({ computeId: v.computeId, updatedAt: v.updatedAt, eventTime: v.eventTime, data: v.data }));
    return { key, versions: [current, ...rest] };
  }

  /**
   * The record as it was at `asOf` (canonical): the version with the latest `updated_at` at or
   * before it, with the record's `created_at`. 404 with `NOT_FOUND_AT_TIME` before the first
   * write, `VERSION_NOT_KEPT` when the version that was current then is no longer kept.
   */
  async function readAsOf(key: RecordKey, asOf: string): Promise<FeatureRecord> {
    const { record, earlier } = await load(key);
    if (record.meta.updated_at <= asOf) return record;
    if (asOf < record.meta.created_at) throw new NotYetWrittenError(key.entityValue, key.category, asOf, record.meta.created_at);
    const version = earlier.find((v) => v.updatedAt <= asOf);
    if (version === undefined) {
      throw new VersionNotKeptError(key.entityValue, key.category, asOf, earlier[earlier.length - 1]?.updatedAt ?? record.meta.updated_at);
    }
    const meta: FeatureRecord['meta'] = { created_at: record.meta.created_at, updated_at: version.updatedAt, compute_id: version.computeId };
    if (version.eventTime !== undefined) meta.event_time = version.eventTime;
    return withData(record, version.data, meta);
  }

  return { readVersions, readAsOf };
}
