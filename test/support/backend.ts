import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/create-store.js';
import type { FeatureStore } from '../../src/store/ports.js';

/** A record in the old Python service's storage format, written directly by a test. */
export interface LegacyRecord {
  entityType: string;
  entityValue: string;
  category: string;
  data: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  computeId: string | null;
}

/** One running instance of a backend, with its own tables / files. */
export interface BackendInstance {
  /** Environment merged over the test defaults before `loadConfig`. */
  env: Record<string, string>;
  /** Writes a record in the old service's storage format, bypassing the service. */
  insertLegacy(record: LegacyRecord): Promise<void>;
  teardown(): Promise<void>;
}

/** A backend the universal suites run against (a real instance of it, never a mock). */
export interface TestBackend {
  /** Display name: the backend and, where there are several, the server it runs on. */
  name: string;
  /** The backend's `STORE` value, as reported in health and metrics. */
  type: 'sqlite' | 'dynamodb';
  /** Whether it can record change events (dynalite has no transactions, so it cannot). */
  events: boolean;
  /**
   * Whether it keeps record versions (and so can roll back jobs): they are written in the
   * write's transaction, which dynalite does not have (its instances run with VERSIONS_KEPT=0).
   */
  versions: boolean;
  setup(): Promise<BackendInstance>;
}

export const TEST_ENV: Readonly<Record<string, string>> = {
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
};

export function testConfig(instance: BackendInstance, extra: Record<string, string> = {}): Config {
  return loadConfig({ ...TEST_ENV, ...instance.env, ...extra });
}

export async function openStore(instance: BackendInstance, extra: Record<string, string> = {}): Promise<FeatureStore> {
  const config = testConfig(instance, extra);
  return createStore(config, createLogger('silent'));
}
