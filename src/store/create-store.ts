import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { FeatureStore } from './feature-store.js';
import { SqliteStore } from './sqlite-store.js';

/** Backend registry: `STORE` → factory. Adding a backend means one file and one line here. */
const FACTORIES: Record<Config['store'], (config: Config, logger: Logger) => Promise<FeatureStore>> = {
  sqlite: async (config) =>
    new SqliteStore({ path: config.sqlitePath, entityTables: config.entityTables, synchronous: config.sqliteSynchronous }),
  dynamodb: async () => {
    throw new Error('STORE=dynamodb is not available in this build');
  },
};

export function createStore(config: Config, logger: Logger): Promise<FeatureStore> {
  return FACTORIES[config.store](config, logger);
}
