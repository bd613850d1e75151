import type { RecordKey } from '../ports.js';
import type { RowReader } from './rows.js';
import type { TableStatements } from './statements.js';

/**
 * The records of several keys of one entity type (each row made what `read` makes of it: a record,
 * or its stored text), aligned to `keys`. When the keys form a grid of
 * several entity values — each value followed by the same categories in the same order, as a
 * batch read asks — the values go as one JSON array to one statement per category (`getValues`),
 * run in one read transaction when there are several, so that every key is read from the same
 * snapshot as one statement reads. Any other list (a multi-read's one entity, mixed keys) goes
 * as one JSON array of `[value, category]` pairs (`getMany`).
 *
 * Read as text (`readText`), a category's values go to `getValuesText` instead: a row per value.
 *
 * Measured on the bench's 100k-record file, 100 random entities per list: one category 6.8 →
 * 5.8 µs per entity against the former single statement that crossed the values with a JSON
 * array of categories (SQLite parsed that array again for every value), two categories 7.9 →
 * 6.2; the key columns are no longer read back (the caller has the key): 0.2–0.6 µs a row less.
 */
export function readKeys<T>(
  s: TableStatements,
  keys: readonly RecordKey[],
  inTransaction: <R>(read: () => R) => R,
  read: RowReader<T>,
  /** What the read makes of a `getValuesText` row, if it reads a grid as text (`getStoredNow`). */
  readText?: (text: string) => T,
): (T | undefined)[] {
  const result = new Array<T | undefined>(keys.length).fill(undefined);
  const categories = keys.length > 1 ? gridCategories(keys) : undefined;
  if (categories !== undefined && keys.length > categories.length) {
    const n = categories.length;
    const values: string[] = [];
    for (let i = 0; i < keys.length; i += n) values.push((keys[i] as RecordKey).entityValue);
    const valuesJson = JSON.stringify(values);
    const readCategories = (): void => {
      for (let c = 0; c < n; c++) {
        if (readText !== undefined) {
          readCategoryText(s, valuesJson, values.length, categories[c] as string, (e, text) => (result[e * n + c] = readText(text)));
          continue;
        }
        for (const row of s.getValues.all(valuesJson, categories[c] as string)) {
          const i = row[0] * n + c;
          result[i] = read(keys[i] as RecordKey, row, 1);
        }
      }
    };
    if (n === 1) readCategories();
    else inTransaction(readCategories);
    return result;
  }
  for (const row of s.getMany.all(JSON.stringify(keys.map((k) => [k.entityValue, k.category])))) {
    result[row[0]] = read(keys[row[0]] as RecordKey, row, 1);
  }
  return result;
}

/** Each record of `category` among the values (`valuesJson`, `count` of them) as `getValuesText` reads it, with its value's index. */
function readCategoryText(s: TableStatements, valuesJson: string, count: number, category: string, found: (e: number, text: string) => void): void {
  const texts = s.getValuesText.all(valuesJson, category);
  if (texts.length !== count) throw new Error(`stored-text read: ${texts.length} rows for ${count} values`);
  for (let e = 0; e < count; e++) {
    const text = texts[e];
    if (typeof text === 'string') found(e, text);
  }
}

/** The categories of each entity value's block when `keys` form a grid, else undefined. */
export function gridCategories(keys: readonly RecordKey[]): string[] | undefined {
  const first = keys[0];
  if (first === undefined) return undefined;
  const categories: string[] = [];
  while (categories.length < keys.length && (keys[categories.length] as RecordKey).entityValue === first.entityValue) {
    categories.push((keys[categories.length] as RecordKey).category);
  }
  const n = categories.length;
  if (keys.length % n !== 0) return undefined;
  for (let i = n; i < keys.length; i++) {
    const key = keys[i] as RecordKey;
    if (key.category !== categories[i % n] || key.entityValue !== (keys[i - (i % n)] as RecordKey).entityValue) return undefined;
  }
  return categories;
}
