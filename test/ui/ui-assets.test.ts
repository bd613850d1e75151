import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { UI_CSP, uiDirectory } from '../../src/http/routes/ui.js';
import type { Runtime } from '../../src/server.js';
import type { BackendInstance } from '../support/backend.js';
import { openApiDocument, operations } from '../support/openapi.js';
import { client, startService } from '../support/service.js';
import { sqliteBackend } from '../support/sqlite-backend.js';

/**
 * How the web UI's files are served (no browser needed): content types, ETag revalidation, the
 * Content-Security-Policy, unknown names, the configuration document, and nothing in OpenAPI.
 */
describe('web UI files over HTTP', () => {
  let instance: BackendInstance;
  let runtime: Runtime;
  let http: ReturnType<typeof client>;

  before(async () => {
    instance = await sqliteBackend.setup();
    runtime = await startService(instance, { env: { ENTITY_TYPES: 'bright_uid,account_pid,device_id' } });
    http = client(runtime.url);
  });
  after(async () => {
    await runtime.close();
    await instance.teardown();
  });

  test('every file has its content type, a strong ETag, no-cache, the CSP and nosniff', async () => {
    const types: Record<string, string> = {
      html: 'text/html; charset=utf-8',
      js: 'text/javascript; charset=utf-8',
      css: 'text/css; charset=utf-8',
    };
    const names = readdirSync(uiDirectory());
    assert.ok(names.includes('index.html') && names.includes('app.js'), `names.includes('index.html') && names.includes('app.js')`);
    for (const name of names) {
      const res = await http.get(`/ui/${name}`);
      assert.equal(res.status, 200, name);
      assert.equal(res.headers.get('content-type'), types[name.slice(name.lastIndexOf('.') + 1)], name);
      assert.match(res.headers.get('etag') ?? '', /^"[\w-]{27}"$/, name);
      assert.equal(res.headers.get('cache-control'), 'no-cache', name);
      assert.equal(res.headers.get('content-security-policy'), UI_CSP, name);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', name);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', name);
    }
    assert.match(UI_CSP, /default-src 'none'/);
    assert.doesNotMatch(UI_CSP, /unsafe-inline|unsafe-eval|\*/);
  });

  test('/ui/ and /ui serve the page, deep links included; a matching If-None-Match gets 304', async () => {
    const page = await http.get('/ui/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<script type="module" src="\/ui\/app.js"><\/script>/);
    assert.equal((await http.get('/ui')).text, page.text);
    assert.equal((await http.get('/ui/?entity_type=bright_uid&entity_value=u%201')).text, page.text);
    const etag = page.headers.get('etag') ?? '';
    const again = await http.get('/ui/', { 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    assert.equal(again.headers.get('etag'), etag);
    assert.equal((await http.get('/ui/', { 'if-none-match': '"other"' })).status, 200);
    const head = await http.request('HEAD', '/ui/app.js');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  test('a name that is not one of the files is a 404, also one that tries to leave the folder', async () => {
    for (const path of ['/ui/nope.js', '/ui/%2e%2e%2fpackage.json', '/ui/..%2Fsrc%2Fconfig.ts', '/ui/.eslintrc']) {
      const res = await http.get(path);
      assert.equal(res.status, 404, path);
      assert.equal(res.text, '{"detail":"Not Found","code":"ROUTE_NOT_FOUND"}', path);
    }
  });

  test('config.json lists the configured entity types and readable categories, never cached', async () => {
    const res = await http.get('/ui/config.json');
    assert.equal(res.status, 200);
    assert.equal(res.text, '{"entity_types":["bright_uid","account_pid","device_id"],"default_entity_type":"bright_uid","categories":["d0_unauth_features","ncr_unauth_features"]}');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  });

  test('the UI is not part of the API: no /ui path in OpenAPI', async () => {
    const ops = operations(await openApiDocument());
    assert.ok(ops.length > 5, 'ops.length > 5');
    assert.deepEqual(ops.filter((op) => op.includes('/ui')), []);
  });
});
