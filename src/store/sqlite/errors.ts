/**
 * SQLite failures → the typed errors of errors.ts. Every database call of the store runs through
 * `guard`: busy, I/O, disk full and a closed handle reject with `StoreUnavailableError` (never a
 * "not found"); anything else (a bug, an unconfigured entity type) propagates unchanged.
 */
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { StoreUnavailableError } from '../../errors.js';

export type Guard = <T>(fn: () => T) => T;

/** Returns the guard of one connection. */
export function guardFor(db: Db): Guard {
  return <T>(fn: () => T): T => {
    if (!db.open) throw new StoreUnavailableError();
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err);
    }
  };
}

/** Maps a `SqliteError` to `StoreUnavailableError` (with the original as cause); other errors pass through. */
export function toStoreError(err: unknown): unknown {
  return err instanceof Database.SqliteError ? new StoreUnavailableError(undefined, err) : err;
}
