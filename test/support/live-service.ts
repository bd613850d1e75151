import { after, before, describe } from 'node:test';
import type { Runtime } from '../../src/server.js';
import type { FeatureStore } from '../../src/store/ports.js';
import { openStore, type BackendInstance, type TestBackend } from './backend.js';
import { BACKENDS } from './backends.js';
import { client, manualClock, startService, type ManualClock } from './service.js';

/** A running service on one backend instance; the fields are set once the suite's `before` ran. */
export interface LiveService {
  readonly backend: TestBackend;
  instance: BackendInstance;
  runtime: Runtime;
  http: ReturnType<typeof client>;
  /** The service's clock (starts at 2025-10-16T10:00:00.000Z). */
  readonly time: ManualClock;
}

/**
 * One `describe` per backend of BACKENDS, each with its own instance and a real service on it
 * (configured with `env` over the backend's), closed after the suite.
 */
export function describeOnEveryBackend(
  title: string,
  env: Record<string, string>,
  body: (live: LiveService) => void,
  backends: readonly TestBackend[] = BACKENDS,
): void {
  for (const backend of backends) {
    describe(`${title}: ${backend.name}`, () => {
      const live = { backend, time: manualClock() } as LiveService;
      before(async () => {
        live.instance = await backend.setup();
        live.runtime = await startService(live.instance, { clock: live.time.clock, env });
        live.http = client(live.runtime.url);
      });
      after(async () => {
        await live.runtime.close();
        await live.instance.teardown();
      });
      body(live);
    });
  }
}

/** A store opened on its own instance of a backend; the fields are set once `before` ran. */
export interface LiveStore {
  instance: BackendInstance;
  store: FeatureStore;
}

/** A `describe` with a fresh instance of `backend` and a store opened through the port. */
export function describeWithStore(title: string, backend: TestBackend, body: (live: LiveStore) => void): void {
  describe(`${title}: ${backend.name}`, () => {
    const live = {} as LiveStore;
    before(async () => {
      live.instance = await backend.setup();
      live.store = await openStore(live.instance);
    });
    after(async () => {
      await live.store.close();
      await live.instance.teardown();
    });
    body(live);
  });
}
