import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { formatKeyFile, newSecret, type ApiKey } from '../../src/auth/api-keys.js';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { launchBrowser, property, shown, texts, untilText, watchedPage } from '../support/browser.js';
import { tempDir } from '../support/kafka-service.js';
import { client, startService } from '../support/service.js';
import { sqliteBackend } from '../support/sqlite-backend.js';

/**
 * The web UI with API keys on: the page itself loads without a key (it holds no data), the
 * first call that needs one prompts for it, the key is kept for the session (sessionStorage)
 * and sent as `Authorization: Bearer`; a wrong key and a key without the right are explained;
 * a key limited to some categories sees only those.
 */
const D0 = 'd0_unauth_features';
const NCR = 'ncr_unauth_features';

function key(id: string, scopes: ApiKey['scopes'], extra: Partial<ApiKey> = {}): { key: ApiKey; secret: string } {
  const { secret, hash } = newSecret(id);
  return { key: { id, hash, scopes, created_at: '2026-12-06T10:00:00.000Z', ...extra }, secret };
}

describe('web UI in a browser (API keys on)', () => {
  const dir = tempDir('feature-store-ui-keys-');
  const writer = key('writer', ['read', 'write'], { sources: ['prediction_service'] });
  const reader = key('reader', ['read']);
  const d0Reader = key('d0-reader', ['read'], { categories: [D0] });
  const admin = key('ops', ['admin']);
  let instance: BackendInstance;
  let runtime: Runtime;
  let browser: Browser;
  const entity = 'keyed user';

  before(async () => {
    const file = `${dir.path}/keys.json`;
    writeFileSync(file, formatKeyFile({ version: 1, keys: [writer.key, reader.key, d0Reader.key, admin.key] }));
    instance = await sqliteBackend.setup();
    runtime = await startService(instance, { env: { API_KEYS_FILE: file } });
    const http = client(runtime.url);
    for (const category of [D0, NCR]) {
      const res = await http.post(
        '/api/v1/items',
        { meta: { source: 'prediction_service', compute_id: 'job-k' }, data: { entity_type: 'bright_uid', entity_value: entity, category, features: { score: 1 } } },
        { authorization: `Bearer ${writer.secret}` },
      );
      assert.equal(res.status, 200, res.text);
    }
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await runtime?.close();
    await instance?.teardown();
    dir.remove();
  });

  const url = () => `${runtime.url}/ui/?entity_type=bright_uid&entity_value=${encodeURIComponent(entity)}`;

  /** A fresh session (its own sessionStorage) on the entity's page, showing the key prompt. */
  const promptedPage = async () => {
    const context = await browser.createBrowserContext();
    const { page, problems } = await watchedPage(context);
    await page.goto(url());
    await page.waitForSelector('#message p');
    return { context, page, problems };
  };
  const enterKey = async (page: Page, secret: string) => {
    await page.type('#api-key', secret);
    await page.keyboard.press('Enter');
  };

  test('without a key the page loads and asks for one; entered once, it is kept for the session', async () => {
    const context = await browser.createBrowserContext();
    const { page, problems } = await watchedPage(context);
    const res = await page.goto(url());
    assert.equal(res?.status(), 200, 'the page itself needs no key');
    assert.equal(await shown(page, '#message p'), '401 NOT_AUTHENTICATED: Not authenticated');
    assert.equal(await texts(page, '#message p').then((t) => t[1]), 'This service needs an API key: enter it above.');
    assert.equal(await page.evaluate('document.activeElement.id'), 'api-key', 'the key input has the focus');
    assert.equal(await property(page, '#api-key', 'type'), 'password');

    await page.type('#api-key', reader.secret);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`section[data-category="${NCR}"]`);
    assert.deepEqual(await texts(page, 'section[data-category] h2'), [D0, NCR]);
    assert.equal(await shown(page, '#key-state'), 'key set for this session');
    assert.equal(await property(page, '#api-key', 'value'), '', 'the secret is not left in the field');
    assert.equal(await page.evaluate("sessionStorage.getItem('feature-store.api-key')"), reader.secret);

    // A reload, and a link followed, keep using it.
    await page.reload();
    await page.waitForSelector(`section[data-category="${D0}"] dd[data-field="compute_id"] a`);
    await page.click(`section[data-category="${D0}"] dd[data-field="compute_id"] a`);
    await untilText(page, '#job-title', 'job-k');
    await page.waitForSelector('table.records');
    assert.equal((await texts(page, 'table.records tbody tr')).length, 2);

    // Forgetting it asks again.
    await page.click('#forget-key');
    assert.equal(await shown(page, '#message p'), '401 NOT_AUTHENTICATED: Not authenticated');
    assert.equal(await page.evaluate("sessionStorage.getItem('feature-store.api-key')"), null);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a wrong key, and a key without the read scope, are explained with a prompt for another', async () => {
    const { context, page, problems } = await promptedPage();
    await enterKey(page, 'fsk.reader.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await untilText(page, '#message p:nth-child(2)', 'The API key was not accepted: enter a valid one above.');

    await enterKey(page, admin.secret);
    await untilText(page, '#message p', "403 FORBIDDEN: API key 'ops' lacks the 'read' scope");
    assert.match((await texts(page, '#message p'))[1] ?? '', /enter a key with the read scope/);
    assert.equal(await page.evaluate('document.activeElement.id'), 'api-key');
    assert.equal(await page.$('section[data-category]'), null);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a key limited to some categories sees those, without a refusal for the others', async () => {
    const { context, page, problems } = await promptedPage();
    await enterKey(page, d0Reader.secret);
    await page.waitForSelector('section[data-category]');
    assert.deepEqual(await texts(page, 'section[data-category] h2'), [D0]);
    assert.equal(await shown(page, '.summary'), '1 of 1 categories');
    assert.equal(await shown(page, '#message'), '');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
