import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { formatKeyFile, newSecret, type ApiKey } from '../../src/auth/api-keys.js';
import { startServer, type Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { BACKENDS, EVENT_BACKENDS } from '../support/backends.js';
import { createTopic, deleteTopic, kafkaBrokers } from '../support/kafka-broker.js';
import { eventServiceConfig, eventually, tempDir, uniqueTopic } from '../support/kafka-service.js';
import { describeOnEveryBackend } from '../support/live-service.js';
import { client, manualClock, startService, type HttpResult, type ManualClock } from '../support/service.js';

const CAT = 'd0_unauth_features';
const CAT2 = 'ncr_unauth_features';
let counter = 0;
const uid = (prefix: string): string => `${prefix}-${process.pid}-${Date.now()}-${++counter}`;
const enc = encodeURIComponent;

interface Job {
  compute_id: string;
  records_written: number;
  records_current: number;
  first_write_at: string;
  last_write_at: string;
  categories: Record<string, number>;
  entity_types: Record<string, number>;
}
interface JobPage {
  jobs: Job[];
  next_cursor: string | null;
}

interface Context {
  http: ReturnType<typeof client>;
  time: ManualClock;
}

/**
 * The job endpoints' scenarios. Statistics follow the writes asynchronously (the relay with
 * events on, the in-memory recorder without), so each check polls until the numbers are there
 * and then requires them exact.
 */
function jobScenarios(ctx: () => Context): void {
  async function write(entityValue: string, computeId: string | null, at: string, entityType = 'bright_uid', category = CAT): Promise<void> {
    ctx().time.set(at);
    const res = await ctx().http.post('/api/v1/items', {
      meta: { source: 'prediction_service', compute_id: computeId },
      data: { entity_type: entityType, entity_value: entityValue, category, features: { a: 1 } },
    });
    assert.equal(res.status, 200, res.text);
  }

  async function merge(entityValue: string, computeId: string, at: string): Promise<void> {
    ctx().time.set(at);
    const res = await ctx().http.request('PATCH', '/api/v1/items', {
      meta: { source: 'prediction_service', compute_id: computeId },
      data: { entity_type: 'bright_uid', entity_value: entityValue, category: CAT, features: { b: 2 } },
    });
    assert.equal(res.status, 200, res.text);
  }

  /** The job once `records_written` reached `written` (it must never go past it). */
  async function jobWhen(computeId: string, written: number): Promise<{ res: HttpResult; job: Job }> {
    let last: HttpResult | undefined;
    await eventually(
      async () => {
        last = await ctx().http.get(`/api/v1/compute-jobs/${enc(computeId)}`);
        if (last.status === 200) assert.ok((last.json as Job).records_written <= written, `over-counted: ${last.text}`);
        return last.status === 200 && (last.json as Job).records_written === written;
      },
      20_000,
      `${computeId} with ${written} writes`,
    );
    const res = last as HttpResult;
    return { res, job: res.json as Job };
  }

  test('exact body: rewrites count in records_written, not in records_current; merges count; deletes do not', async () => {
    const job = uid('spark-job');
    const [a, b, c] = [uid('user'), uid('user'), uid('acct')];
    await write(a, job, '2025-10-16T10:00:00.000Z');
    await write(b, job, '2025-10-16T10:01:00.000Z', 'bright_uid', CAT2);
    await write(c, job, '2025-10-16T10:02:00.000Z', 'account_pid');
    await write(a, job, '2025-10-16T10:03:00.000Z'); // a rewrite by the same job
    await merge(b, job, '2025-10-16T10:04:00.000Z'); // a merge is a write too (into CAT: a new record)
    await write(c, uid('later-job'), '2025-10-16T10:05:00.000Z', 'account_pid'); // c leaves the job
    await write(uid('user'), null, '2025-10-16T10:06:00.000Z'); // no compute_id: no job
    ctx().time.set('2025-10-16T10:07:00.000Z');
    assert.equal((await ctx().http.request('DELETE', `/api/v1/items/bright_uid/${enc(a)}/${CAT}?source=prediction_service`)).status, 200);
    const { res } = await jobWhen(job, 5);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    // records_current: b in CAT2 and b in CAT (a was deleted, c rewritten by another job). It
    // comes from the by-compute-id index, eventually consistent on DynamoDB.
    await eventually(async () => ((await ctx().http.get(`/api/v1/compute-jobs/${enc(job)}`)).json as Job).records_current === 2, 20_000, 'records_current');
    const body = (await ctx().http.get(`/api/v1/compute-jobs/${enc(job)}`)).json as Job;
    assert.deepEqual(body, {
      compute_id: job,
      records_written: 5,
      records_current: 2,
      first_write_at: '2025-10-16T10:00:00.000Z',
      last_write_at: '2025-10-16T10:04:00.000Z',
      categories: { [CAT]: 4, [CAT2]: 1 },
      entity_types: { account_pid: 1, bright_uid: 4 },
    });
    assert.deepEqual(Object.keys(body), ['compute_id', 'records_written', 'records_current', 'first_write_at', 'last_write_at', 'categories', 'entity_types']);
  });

  test('404 with a code for a job never counted; ids with spaces, slashes and non-ASCII text work', async () => {
    const res = await ctx().http.get('/api/v1/compute-jobs/never-ran');
    assert.equal(res.status, 404);
    assert.equal(res.text, '{"detail":"Compute job not found: never-ran","code":"COMPUTE_JOB_NOT_FOUND"}');
    const job = `job / ü ${uid('x')}`;
    await write(uid('user'), job, '2025-10-16T11:00:00.000Z');
    const { job: body } = await jobWhen(job, 1);
    assert.equal(body.compute_id, job);
    assert.equal((await ctx().http.get(`/api/v1/compute-jobs/${'x'.repeat(257)}`)).status, 422);
  });

  test('the job list: latest last write first, paged across several pages, filtered by category', async () => {
    // Later than every other test's writes, so these jobs lead the list.
    const run = uid('list');
    const jobs = Array.from({ length: 7 }, (_, i) => `${run}-${i}`);
    for (const [i, job] of jobs.entries()) {
      const at = `2031-01-0${1 + (i % 3)}T00:00:00.000Z`; // ties on last_write_at too
      await write(uid('user'), job, at, 'bright_uid', i === 4 ? CAT2 : CAT);
    }
    for (const job of jobs) await jobWhen(job, 1);
    const ours = (page: Job[]) => page.filter((j) => j.compute_id.startsWith(run));
    const whole = (await ctx().http.get('/api/v1/compute-jobs?limit=1000')).json as JobPage;
    assert.equal(whole.next_cursor, null);
    const times = whole.jobs.map((j) => j.last_write_at);
    assert.deepEqual(times, [...times].sort().reverse(), 'latest first');
    assert.deepEqual(ours(whole.jobs).map((j) => j.compute_id).sort(), [...jobs].sort());
    assert.deepEqual(whole.jobs.slice(0, 7).map((j) => j.compute_id).sort(), [...jobs].sort(), 'ours lead');
    for (const limit of [1, 2, 3]) {
      const seen: Job[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: HttpResult = await ctx().http.get(`/api/v1/compute-jobs?limit=${limit}${cursor === null ? '' : `&cursor=${enc(cursor)}`}`);
        assert.equal(res.status, 200, res.text);
        const page = res.json as JobPage;
        assert.ok(page.jobs.length <= limit, 'page.jobs.length <= limit');
        seen.push(...page.jobs);
        cursor = page.next_cursor;
        pages++;
      } while (cursor !== null && pages < 200);
      assert.equal(cursor, null, 'paging ends');
      assert.ok(pages >= Math.ceil(whole.jobs.length / limit), 'pages >= Math.ceil(whole.jobs.length / limit)');
      assert.deepEqual(seen.map((j) => j.compute_id), whole.jobs.map((j) => j.compute_id), `limit ${limit}: the same jobs in the same order`);
    }
    const inCat2 = (await ctx().http.get(`/api/v1/compute-jobs?category=${CAT2}&limit=1000`)).json as JobPage;
    assert.deepEqual(ours(inCat2.jobs).map((j) => j.compute_id), [jobs[4]]);
    assert.ok(inCat2.jobs.every((j) => (j.categories[CAT2] ?? 0) > 0), 'inCat2.jobs.every((j) => (j.categories[CAT2] ?? 0) > 0)');
    const first = ours(whole.jobs)[0] as Job;
    assert.equal(first.records_current, 1);
    assert.equal(first.last_write_at, '2031-01-03T00:00:00.000Z');
  });

  test('400 for a category off the allow-list; 422 for a bad limit or cursor', async () => {
    const category = await ctx().http.get('/api/v1/compute-jobs?category=other');
    assert.equal(category.status, 400);
    assert.equal((category.json as { code: string }).code, 'CATEGORY_NOT_ALLOWED');
    for (const limit of ['0', '1001', 'ten']) {
      const res = await ctx().http.get(`/api/v1/compute-jobs?limit=${limit}`);
      assert.equal(res.status, 422, limit);
    }
    const byComputeIdCursor = Buffer.from('["bright_uid"]').toString('base64url');
    for (const cursor of ['garbage!', byComputeIdCursor, Buffer.from('["jobs","x"]').toString('base64url')]) {
      const res = await ctx().http.get(`/api/v1/compute-jobs?cursor=${enc(cursor)}`);
      assert.equal(res.status, 422, cursor);
      assert.deepEqual((res.json as { detail: { loc: string[] }[] }).detail.map((d) => d.loc), [['query', 'cursor']]);
    }
  });
}

/** Without change events (what every backend, dynalite included, runs): the in-memory recorder. */
describeOnEveryBackend('compute job statistics without events', {}, (live) => jobScenarios(() => live));

/** With change events: the relay counts each write as it removes its event from the outbox. */
for (const backend of EVENT_BACKENDS) {
  describe(`compute job statistics from the outbox relay: ${backend.name}`, { timeout: 300_000 }, () => {
    const topic = uniqueTopic('jobs');
    const time = manualClock();
    let brokers: string;
    let instance: BackendInstance;
    let runtime: Runtime;
    let http: ReturnType<typeof client>;
    before(async () => {
      brokers = await kafkaBrokers();
      await createTopic(brokers, topic);
      instance = await backend.setup();
      runtime = await startServer(eventServiceConfig({ brokers, topic, env: instance.env }), { clock: time.clock });
      http = client(runtime.url);
    });
    after(async () => {
      await runtime?.close();
      await instance?.teardown();
      if (brokers !== undefined) await deleteTopic(brokers, topic);
    });
    jobScenarios(() => ({ http, time }));
  });
}

/** With API keys on, the job endpoints take the read scope and every category (or the one asked for). */
for (const backend of BACKENDS) {
  describe(`compute job statistics with API keys: ${backend.name}`, () => {
    const dir = tempDir('feature-store-keys-');
    const file = `${dir.path}/keys.json`;
    const key = (id: string, scopes: ApiKey['scopes'], extra: Partial<ApiKey> = {}) => {
      const { secret, hash } = newSecret(id);
      return { key: { id, hash, scopes, created_at: '2026-12-06T10:00:00.000Z', ...extra }, secret };
    };
    const reader = key('reader', ['read']);
    const d0Reader = key('d0-reader', ['read'], { categories: [CAT] });
    const writer = key('writer', ['write'], { sources: ['prediction_service'] });
    let instance: BackendInstance;
    let runtime: Runtime;
    let http: ReturnType<typeof client>;
    before(async () => {
      writeFileSync(file, formatKeyFile({ version: 1, keys: [reader.key, d0Reader.key, writer.key] }));
      instance = await backend.setup();
      runtime = await startService(instance, { env: { API_KEYS_FILE: file } });
      http = client(runtime.url);
    });
    after(async () => {
      await runtime?.close();
      await instance?.teardown();
      dir.remove();
    });
    const as = (k: { secret: string }) => ({ authorization: `Bearer ${k.secret}` });

    test('401 without a key, 403 without the read scope or for a category the key lacks', async () => {
      for (const path of ['/api/v1/compute-jobs/j', '/api/v1/compute-jobs']) {
        assert.equal((await http.get(path)).status, 401, path);
        assert.equal(((await http.get(path, as(writer))).json as { code: string }).code, 'FORBIDDEN', path);
        assert.equal((await http.get(path, as(d0Reader))).status, 403, `${path}: a key limited to some categories sees every category here`);
      }
      assert.equal((await http.get('/api/v1/compute-jobs/j', as(reader))).status, 404);
      assert.equal((await http.get('/api/v1/compute-jobs', as(reader))).status, 200);
      assert.equal((await http.get(`/api/v1/compute-jobs?category=${CAT}`, as(d0Reader))).status, 200);
      assert.equal((await http.get(`/api/v1/compute-jobs?category=${CAT2}`, as(d0Reader))).status, 403);
    });
  });
}
