/**
 * The SQLite backend: `openSqliteStore` opens (creating and migrating) one database file and
 * returns a store implementing the ports of ../ports.ts.
 */
import { SqliteStore, type SqliteStoreOptions } from './records.js';

export { SqliteStore, type SqliteStoreOptions } from './records.js';
export type { Synchronous } from './schema.js';

export function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  return SqliteStore.open(options);
}
