import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { FeatureStore } from './ports.js';
import { openSqliteStore } from './sqlite/index.js';

/** Backend registry: `STORE` → factory. Adding a backend means one folder and one line here. */
const FACTORIES: Record<Config['store'], (config: Config, logger: Logger) => Promise<FeatureStore>> = {
  sqlite: async (config) =>
    openSqliteStore({ path: config.sqlitePath, entityTables: config.entityTables, synchronous: config.sqliteSynchronous }),
  // Loaded on demand: the AWS SDK costs start-up time and memory that SQLite users need not pay.
  dynamodb: async (config, logger) => (await import('./dynamodb/index.js')).createDynamoDbStore(config, logger),
};

export function createStore(config: Config, logger: Logger): Promise<FeatureStore> {
  return FACTORIES[config.store](config, logger);
}
