import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'puppeteer-core';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { eventually } from '../support/kafka-service.js';
import { clear, launchBrowser, property, shown, texts, until, untilText, watchedPage } from '../support/browser.js';
import { sqliteBackend } from '../support/sqlite-backend.js';
import { client, startService } from '../support/service.js';

/**
 * The web UI (`/ui/`) in a real headless Chromium against the real service (SQLite): an entity's
 * categories with features, metadata and compute history, deep links, following a compute_id to
 * its job and back, paging, errors. The browser only ever sees what the API returned.
 */
const D0 = 'd0_unauth_features';
const NCR = 'ncr_unauth_features';
const HOSTILE = '<img src=x id=injected onerror="window.__pwned=1">';

describe('web UI in a browser (open mode)', () => {
  let instance: BackendInstance;
  let runtime: Runtime;
  let browser: Browser;
  let http: ReturnType<typeof client>;

  const write = async (entityValue: string, category: string, features: Record<string, unknown>, meta: Record<string, string> = {}) => {
    const res = await http.post('/api/v1/items', {
      meta: { source: 'prediction_service', ...meta },
      data: { entity_type: 'bright_uid', entity_value: entityValue, category, features },
    });
    assert.equal(res.status, 200, res.text);
  };

  before(async () => {
    instance = await sqliteBackend.setup();
    runtime = await startService(instance, { env: { CATEGORY_TTL: `${NCR}=7d` } });
    http = client(runtime.url);
    await write('user 1/ü', D0, { credit_score: 700 }, { compute_id: 'job-a', event_time: '2025-10-16T10:00:00Z' });
    await write('user 1/ü', D0, { credit_score: 750, note: HOSTILE, tags: ['x', 1] }, { compute_id: 'job-b', event_time: '2025-10-17T10:00:00Z' });
    await write('user 1/ü', NCR, { utilization: 0.2 }, { compute_id: 'job-b' });
    await write('user-2', D0, { credit_score: 600 }, { compute_id: 'job-b' });
    for (let i = 0; i < 53; i++) await write(`bulk-${String(i).padStart(2, '0')}`, D0, { n: i }, { compute_id: 'bulk-job' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await runtime?.close();
    await instance?.teardown();
  });

  const entityUrl = (value: string) => `${runtime.url}/ui/?entity_type=bright_uid&entity_value=${encodeURIComponent(value)}`;

  test('a deep link shows every category with features, metadata and compute history; values stay text', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(entityUrl('user 1/ü'));
    await page.waitForSelector(`section[data-category="${NCR}"]`);
    assert.equal(await shown(page, '#entity-title'), 'user 1/ü');
    assert.deepEqual(await texts(page, 'section[data-category] h2'), [D0, NCR]);

    const d0 = `section[data-category="${D0}"]`;
    assert.deepEqual(await texts(page, `${d0} table.features tbody th`), ['credit_score', 'note', 'tags']);
    assert.deepEqual(await texts(page, `${d0} table.features tbody td`), ['750', JSON.stringify(HOSTILE), '["x",1]']);
    assert.equal(await page.$('#injected'), null, 'a feature value is never parsed as HTML');
    assert.equal(await page.evaluate('window.__pwned'), undefined);

    const read = (await http.get(`/api/v1/get/item/${encodeURIComponent('user 1/ü')}/${D0}`)).json as { features: { meta: Record<string, string> } };
    const meta = read.features.meta;
    assert.deepEqual(await texts(page, `${d0} dl.meta dt`), ['created_at', 'updated_at', 'compute_id', 'event_time']);
    assert.deepEqual(await texts(page, `${d0} dl.meta dd`), [meta.created_at, meta.updated_at, 'job-b', '2025-10-17T10:00:00.000Z']);
    assert.deepEqual(await texts(page, `${d0} ol.history li a`), ['job-b', 'job-a']);

    const ncr = `section[data-category="${NCR}"]`;
    assert.deepEqual(await texts(page, `${ncr} dl.meta dt`), ['created_at', 'updated_at', 'compute_id', 'expires_at']);
    assert.deepEqual(await texts(page, `${ncr} table.features tbody td`), ['0.2']);
    assert.deepEqual(problems, []);
  });

  test('the lookup form pushes the URL; back returns to the previous entity', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(entityUrl('user 1/ü'));
    await page.waitForSelector('section[data-category]');
    assert.deepEqual(await texts(page, '#entity-type option'), ['bright_uid', 'account_pid']);
    await clear(page, '#entity-value');
    await page.type('#entity-value', 'user-2');
    await page.keyboard.press('Enter');
    await untilText(page, '#entity-title', 'user-2');
    assert.equal(new URL(page.url()).search, '?entity_type=bright_uid&entity_value=user-2');
    assert.deepEqual(await texts(page, 'section[data-category] h2'), [D0]);
    assert.match(await shown(page, '.summary'), /1 of 2 categories; not present: ncr_unauth_features/);

    await page.goBack();
    await untilText(page, '#entity-title', 'user 1/ü');
    assert.equal(await property(page, '#entity-value', 'value'), 'user 1/ü');
    assert.deepEqual(problems, []);
  });

  test('following a compute_id shows the records that carry it, each linking back to its entity', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(entityUrl('user 1/ü'));
    await page.waitForSelector(`section[data-category="${D0}"] dd[data-field="compute_id"] a`);
    await page.click(`section[data-category="${D0}"] dd[data-field="compute_id"] a`);
    await page.waitForSelector('table.records');
    assert.equal(new URL(page.url()).search, '?compute_id=job-b');
    assert.equal(await shown(page, '#job-title'), 'job-b');
    const types = await texts(page, 'table.records tbody td:nth-child(1)');
    const values = await texts(page, 'table.records tbody td:nth-child(2)');
    const categories = await texts(page, 'table.records tbody td:nth-child(3)');
    const rows = types.map((t, i) => `${t} ${values[i]} ${categories[i]}`);
    assert.deepEqual(rows.sort(), [`bright_uid user 1/ü ${D0}`, `bright_uid user 1/ü ${NCR}`, `bright_uid user-2 ${D0}`]);
    assert.equal(await property(page, 'button.more', 'hidden'), true, 'one page: no "more"');

    await page.click('table.records a[href*="user-2"]');
    await untilText(page, '#entity-title', 'user-2');
    assert.equal(new URL(page.url()).searchParams.get('entity_value'), 'user-2');
    await page.goBack();
    await page.waitForSelector('table.records');
    assert.equal(await shown(page, '#job-title'), 'job-b');
    assert.deepEqual(problems, []);
  });

  test('a job with more records than a page: "More records" loads the next page until the end', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${runtime.url}/ui/?compute_id=bulk-job`);
    await page.waitForSelector('table.records');
    assert.equal((await texts(page, 'table.records tbody tr')).length, 50);
    await page.click('button.more');
    await until(page, "document.querySelectorAll('table.records tbody tr').length === 53");
    assert.equal(await property(page, 'button.more', 'hidden'), true);
    const values = await texts(page, 'table.records tbody tr td:nth-child(2)');
    assert.deepEqual([...values].sort(), Array.from({ length: 53 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`));
    assert.deepEqual(problems, []);
  });

  test('an unknown job: "statistics unavailable" and no records; an unknown entity: a readable 404', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${runtime.url}/ui/?compute_id=no-such-job`);
    assert.match(await shown(page, '#stats-unavailable'), /^Job statistics unavailable: /);
    assert.match(await shown(page, 'article.job p.empty'), /No record carries this compute_id/);

    await page.goto(entityUrl('nobody'));
    assert.equal(
      await shown(page, '#message p'),
      `404 NOT_FOUND: No record of bright_uid 'nobody' in any category (${D0}, ${NCR})`,
    );
    assert.equal(await page.$('section[data-category]'), null);
    assert.deepEqual(problems, []);
  });

  test('a 503 from the store is shown with its detail and when to retry', async () => {
    const { page, problems } = await watchedPage(browser);
    // The answer the service gives when its store cannot be reached, put in place of the multi-read's.
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (request.url().endsWith('/api/v1/get/items')) {
        void request.respond({
          status: 503,
          headers: { 'retry-after': '2' },
          contentType: 'application/json',
          body: '{"detail":"Feature store is temporarily unavailable","code":"STORE_UNAVAILABLE"}',
        });
      } else void request.continue();
    });
    await page.goto(entityUrl('user-2'));
    await page.waitForSelector('#message p');
    assert.deepEqual(await texts(page, '#message p'), [
      '503 STORE_UNAVAILABLE: Feature store is temporarily unavailable',
      'The service or its store is unavailable right now; retry in 2 s.',
    ]);
    assert.equal(await page.$('section[data-category]'), null);
    assert.deepEqual(problems, []);
  });

  // Needs GET /api/v1/compute-jobs/{id} (job analytics); until it is served this test fails.
  test('a compute job\'s statistics: writes, current records, first and last write, per category and entity type', async () => {
    // Job statistics may be derived from the change events, a little after the writes.
    let stats: Record<string, unknown> = {};
    await eventually(
      async () => {
        const res = await http.get('/api/v1/compute-jobs/job-b');
        stats = res.json as Record<string, unknown>;
        return res.status === 200 && stats.records_written === 3;
      },
      30_000,
      'GET /api/v1/compute-jobs/job-b to count the 3 writes of job-b',
    );
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${runtime.url}/ui/?compute_id=job-b`);
    // The statistics and the records are rendered together.
    await page.waitForSelector('table.records');
    assert.equal(await page.$('#stats-unavailable'), null, 'statistics are shown');
    assert.deepEqual(await texts(page, 'dl.stats dt'), ['Records written', 'Records current', 'First write', 'Last write', 'Categories', 'Entity types']);
    assert.deepEqual(await texts(page, 'dl.stats dd'), [
      '3',
      '3',
      String(stats.first_write_at),
      String(stats.last_write_at),
      `${D0}: 2, ${NCR}: 1`,
      'bright_uid: 3',
    ]);
    assert.deepEqual(problems, []);
  });
});
