import { after, before } from 'node:test';
import { createClient, type FeatureStoreClient } from '../../packages/client/src/index.js';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { sqliteBackend } from '../support/sqlite-backend.js';
import { startService } from '../support/service.js';

export interface LiveClient {
  runtime: Runtime;
  /** A client of the service with `source: 'prediction_service'`. */
  fs: FeatureStoreClient;
}

/**
 * A real service on a fresh SQLite file for the enclosing `describe` (started in its `before`,
 * closed in its `after`) and a client of it; the fields are set once `before` ran.
 */
export function useLiveClient(env: Record<string, string> = {}): LiveClient {
  const live = {} as LiveClient;
  let instance: BackendInstance;
  before(async () => {
    instance = await sqliteBackend.setup();
    live.runtime = await startService(instance, { env });
    live.fs = createClient({ baseUrl: live.runtime.url, source: 'prediction_service' });
  });
  after(async () => {
    await live.runtime.close();
    await instance.teardown();
  });
  return live;
}
