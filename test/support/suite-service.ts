import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance, TestBackend } from './backend.js';
import { client, manualClock, startService, type HttpResult, type ManualClock } from './service.js';

/** A backend instance and the service on it, shared by the tests of one `describe`. */
export interface SuiteService {
  readonly instance: BackendInstance;
  readonly runtime: Runtime;
  /** A client of the service, usable once the suite's `before` has run. */
  readonly http: ReturnType<typeof client>;
  /** The service's clock. */
  readonly time: ManualClock;
}

/**
 * Call inside a `describe`: sets `backend` and the service up before its tests (with a manual
 * clock and `env` over the test configuration) and tears both down after them.
 */
export function serviceForSuite(backend: TestBackend, env: Record<string, string> = {}): SuiteService {
  const time = manualClock();
  let instance: BackendInstance | undefined;
  let runtime: Runtime | undefined;
  let started: ReturnType<typeof client> | undefined;
  before(async () => {
    instance = await backend.setup();
    runtime = await startService(instance, { clock: time.clock, env });
    started = client(runtime.url);
  });
  after(async () => {
    await runtime?.close();
    await instance?.teardown();
  });
  const ready = <T>(value: T | undefined): T => value ?? assert.fail('the suite service is not started yet');
  const http: ReturnType<typeof client> = {
    request: (...args) => ready(started).request(...args),
    get: (...args) => ready(started).get(...args),
    post: (...args) => ready(started).post(...args),
  };
  return {
    get instance() {
      return ready(instance);
    },
    get runtime() {
      return ready(runtime);
    },
    http,
    time,
  };
}

/** A 422 in FastAPI shape listing exactly `expected` (with `msg` compared when any entry gives one). */
export function assertIssues(res: HttpResult, expected: { type: string; loc: (string | number)[]; msg?: string }[]): void {
  assert.equal(res.status, 422, res.text);
  const body = res.json as { detail: { type: string; loc: (string | number)[]; msg: string }[]; code: string };
  assert.equal(body.code, 'VALIDATION_FAILED');
  const withMsg = expected.some((e) => e.msg !== undefined);
  assert.deepEqual(
    body.detail.map((d) => ({ type: d.type, loc: d.loc, ...(withMsg ? { msg: d.msg } : {}) })),
    expected,
  );
}
