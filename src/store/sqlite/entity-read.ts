/**
 * The records of a few categories of one entity, as a multi-read asks for them: one statement
 * that is a UNION ALL of point lookups on the primary key, one arm per category, each row tagged
 * with its arm's position. One statement reads one snapshot, as the batch statement
 * (`getMany`, batch-read.ts) did, but without building a JSON array of keys for `json_each` to
 * parse and without the `->>` extractions per row: measured 17 → 13 µs for two categories of
 * one entity on a 100k-record file (decision record 5, "Multi-read: one entity, one statement").
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { RecordKey } from '../ports.js';
import type { RowReader } from './rows.js';
import { quote } from './schema.js';
import { DATA_COLUMNS, type RowColumns } from './statements.js';

/** Most categories one statement reads; a longer list goes to the batch statement. */
export const ENTITY_READ_MAX_CATEGORIES = 8;

type EntityRow = [position: number, ...RowColumns];

/** Reads the categories of one entity from one entity table, preparing one statement per count of categories on first use. */
export class EntityReads {
  readonly #db: Db;
  readonly #table: string;
  /** `#byCount[n]`: the statement for n categories. */
  readonly #byCount: (Statement<string[], EntityRow> | undefined)[] = [];

  constructor(db: Db, table: string) {
    this.#db = db;
    this.#table = table;
  }

  /**
   * Whether `keys` (of this table's entity type) name categories of one entity value, no more
   * than one statement reads.
   */
  static fits(keys: readonly RecordKey[]): boolean {
    const first = keys[0];
    if (first === undefined || keys.length > ENTITY_READ_MAX_CATEGORIES) return false;
    for (let i = 1; i < keys.length; i++) if ((keys[i] as RecordKey).entityValue !== first.entityValue) return false;
    return true;
  }

  /** The records of `keys` (all of one entity value, see `fits`), each row made what `readRow` makes of it, aligned to `keys`. */
  read<T>(keys: readonly RecordKey[], readRow: RowReader<T>): (T | undefined)[] {
    const n = keys.length;
    const params = new Array<string>(2 * n);
    for (let i = 0; i < n; i++) {
      const key = keys[i] as RecordKey;
      params[2 * i] = key.entityValue;
      params[2 * i + 1] = key.category;
    }
    const result = new Array<T | undefined>(n).fill(undefined);
    for (const row of this.#statement(n).all(...params)) {
      const position = row[0];
      result[position] = readRow(keys[position] as RecordKey, row, 1);
    }
    return result;
  }

  #statement(n: number): Statement<string[], EntityRow> {
    let statement = this.#byCount[n];
    if (statement === undefined) {
      const t = quote(this.#table);
      const arms: string[] = [];
      for (let i = 0; i < n; i++) arms.push(`SELECT ${i}, ${DATA_COLUMNS} FROM ${t} WHERE entity_value = ? AND category = ?`);
      statement = this.#db.prepare<string[], EntityRow>(arms.join(' UNION ALL ')).raw(true);
      this.#byCount[n] = statement;
    }
    return statement;
  }
}
