/**
 * The records of a few categories of one entity, as a multi-read asks for them: one statement
 * that is a UNION ALL of point lookups on the primary key, one arm per category, each row tagged
 * with its arm's position. One statement reads one snapshot, as the batch statement
 * (`getMany`, batch-read.ts) did, but without building a JSON array of keys for `json_each` to
 * parse and without the `->>` extractions per row: measured 17 → 13 µs for two categories of
 * one entity on a 100k-record file (decision record 5, "Multi-read: one entity, one statement").
 *
 * The same read as stored text (`readText`, for `getStoredNow`) is one walk of the key index
 * instead: an entity's entries `(entity_value, category)` are neighbours, so the walk from the
 * smallest asked category to the largest descends the index once for all of them, and a row is
 * fetched only for an asked category; each row comes back as one text (decision record 5,
 * round 7).
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { RecordKey } from '../ports.js';
import type { RowReader } from './rows.js';
import { quote } from './schema.js';
import { DATA_COLUMNS, STORED_TEXT, type RowColumns } from './statements.js';

/** Most categories one statement reads; a longer list goes to the batch statement. */
export const ENTITY_READ_MAX_CATEGORIES = 8;

type EntityRow = [position: number, ...RowColumns];
/** A row of the text form: its category, and the row as `STORED_TEXT` writes it (statements.ts). */
type EntityTextRow = [category: string, text: string];

/** Reads the categories of one entity from one entity table, preparing one statement per count of categories on first use. */
export class EntityReads {
  readonly #db: Db;
  readonly #table: string;
  /** `#byCount[n]`: the statement for n categories. */
  readonly #byCount: (Statement<string[], EntityRow> | undefined)[] = [];
  /** `#textByCount[n]`: the same read with each row as one text (`readText`). */
  readonly #textByCount: (Statement<string[], EntityTextRow> | undefined)[] = [];

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

  /**
   * `read` with each row as one text, its metadata's JSON and its data (`STORED_TEXT`), made
   * what `fromText` makes of it: two strings cross from SQLite per row instead of five, and the
   * common metadata is sliced rather than rebuilt (as the batch read's grid, decision record 6).
   * A category asked for twice gets its row at each place.
   */
  readText<T>(keys: readonly RecordKey[], fromText: (text: string) => T): (T | undefined)[] {
    const n = keys.length;
    // The entity value, then the categories three times (lower bound, upper bound, filter):
    // better-sqlite3 binds positional parameters only as `?`, so a list is bound where it is used.
    const times = n === 1 ? 1 : 3;
    const params = new Array<string>(1 + times * n);
    params[0] = (keys[0] as RecordKey).entityValue;
    for (let i = 0; i < n; i++) {
      const { category } = keys[i] as RecordKey;
      for (let t = 0; t < times; t++) params[1 + t * n + i] = category;
    }
    const result = new Array<T | undefined>(n).fill(undefined);
    for (const row of this.#textStatement(n).all(...params)) {
      for (let i = 0; i < n; i++) if ((keys[i] as RecordKey).category === row[0]) result[i] = fromText(row[1]);
    }
    return result;
  }

  #textStatement(n: number): Statement<string[], EntityTextRow> {
    let statement = this.#textByCount[n];
    if (statement === undefined) {
      // The bounds are SQLite's `min`/`max` of the asked categories, so the range is in the
      // index's own (binary) order; the `+` makes the IN list a filter on the walked entries,
      // evaluated before the row is fetched, instead of one index descent per category.
      const asked = new Array<string>(n).fill('?').join(', ');
      const where = n === 1 ? 'r.category = ?' : `r.category >= min(${asked}) AND r.category <= max(${asked}) AND +r.category IN (${asked})`;
      statement = this.#db.prepare<string[], EntityTextRow>(`SELECT r.category, ${STORED_TEXT} FROM ${quote(this.#table)} AS r WHERE r.entity_value = ? AND ${where}`).raw(true);
      this.#textByCount[n] = statement;
    }
    return statement;
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
