/**
 * Earlier versions of records (ports.ts `getVersions`, record-shapes.ts
 * `RecordChangeInput.versionsKept`) in the SQLite file: one table, `record_versions`, for every
 * entity table, one row per kept earlier version, ordered by an increasing `seq`. A write that
 * keeps versions copies the row it is about to replace into it (`INSERT … SELECT` from the entity
 * table, inside the write's transaction, so nothing is read into the process), then deletes that
 * record's versions beyond the limit. With versions off (`VERSIONS_KEPT=0`) none of these
 * statements runs.
 *
 * Why a table of its own and not a column of the record row: a point read loads the whole row; a
 * JSON column holding N copies of the data would make every read carry them (and spill large rows
 * to overflow pages).
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { FeatureMap } from '../../model.js';
import { normalizeTimestamp } from '../../timestamps.js';
import type { RecordKey, RecordVersion } from '../ports.js';
import { quote } from './schema.js';

interface VersionRow {
  data: string;
  compute_id: string | null;
  event_time: string | null;
  updated_at: string;
}

type RecordParams = [string, string, string];

export class SqliteVersions {
  /** Entity table → its copy statement. */
  readonly #copy = new Map<string, Statement<RecordParams>>();
  readonly #trim: Statement<[string, string, string, string, string, string, number]>;
  readonly #list: Statement<[string, string, string, number], VersionRow>;
  readonly #drop: Statement<RecordParams>;

  constructor(db: Db, tables: readonly string[]) {
    for (const table of tables) {
      this.#copy.set(
        table,
        db.prepare(
          `INSERT INTO record_versions (record_table, record_value, record_category, data, compute_id, event_time, updated_at)
           SELECT ?, entity_value, category, data, compute_id, event_time, updated_at FROM ${quote(table)}
           WHERE entity_value = ? AND category = ?`,
        ),
      );
    }
    const record = 'record_table = ? AND record_value = ? AND record_category = ?';
    // Deletes every version at or below the (limit+1)-th newest: a range of the index.
    this.#trim = db.prepare(
      `DELETE FROM record_versions WHERE ${record} AND seq <= (
         SELECT seq FROM record_versions WHERE ${record} ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
    );
    this.#list = db.prepare(
      `SELECT data, compute_id, event_time, updated_at FROM record_versions WHERE ${record} ORDER BY seq DESC LIMIT ?`,
    );
    this.#drop = db.prepare(`DELETE FROM record_versions WHERE ${record}`);
  }

  /**
   * Keeps the stored row of `key` (if any) as the newest earlier version and at most `kept`
   * versions of it. Runs inside the write's transaction, before the row is replaced.
   */
  keep(table: string, key: RecordKey, kept: number): void {
    const copy = this.#copy.get(table);
    if (copy === undefined) throw new Error(`SqliteVersions: no table ${table}`);
    if (copy.run(table, key.entityValue, key.category).changes === 0) return;
    this.#trim.run(table, key.entityValue, key.category, table, key.entityValue, key.category, kept);
  }

  list(table: string, key: RecordKey, limit: number): RecordVersion[] {
    if (limit <= 0) return [];
    return this.#list.all(table, key.entityValue, key.category, limit).map((row) => ({
      data: JSON.parse(row.data) as FeatureMap,
      computeId: row.compute_id,
      ...(row.event_time === null ? {} : { eventTime: normalizeTimestamp(row.event_time) }),
      updatedAt: normalizeTimestamp(row.updated_at),
    }));
  }

  /** Removes every version of a record (it was deleted). */
  drop(table: string, key: RecordKey): void {
    this.#drop.run(table, key.entityValue, key.category);
  }
}
