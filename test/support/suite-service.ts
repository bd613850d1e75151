import { after, before } from 'node:test';
import type { Runtime } from '../../src/server.js';
import type { TestBackend } from './backend.js';
import { client, startService } from './service.js';

export interface SuiteService {
  readonly runtime: Runtime;
  readonly http: ReturnType<typeof client>;
}

/**
 * A fresh instance of `backend` and a service on it for the enclosing `describe`: started in
 * `before`, closed in `after`. Read `runtime` and `http` inside tests only.
 */
export function serviceForSuite(backend: TestBackend, env: Record<string, string> = {}): SuiteService {
  let started: SuiteService | undefined;
  let teardown: (() => Promise<void>) | undefined;
  before(async () => {
    const instance = await backend.setup();
    const runtime = await startService(instance, { env });
    started = { runtime, http: client(runtime.url) };
    teardown = async () => {
      await runtime.close();
      await instance.teardown();
    };
  });
  after(async () => {
    await teardown?.();
  });
  const get = (): SuiteService => {
    if (started === undefined) throw new Error('the suite service is used before it started');
    return started;
  };
  return {
    get runtime() {
      return get().runtime;
    },
    get http() {
      return get().http;
    },
  };
}
