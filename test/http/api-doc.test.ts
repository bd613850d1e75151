import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ERROR_CODES } from '../../src/contract/error-codes.js';
import { ROOT } from '../support/cli-process.js';
import { openApiDocument, operations, type OpenApiDocument } from '../support/openapi.js';

/**
 * docs/api.md is the contract in the repository. These checks keep it in step with the code:
 * one `### METHOD /path` section per OpenAPI operation (no more, no fewer) and every error code.
 */
const apiMd = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');

describe('docs/api.md', () => {
  let doc: OpenApiDocument;
  before(async () => {
    doc = await openApiDocument();
  });

  test('has one "### METHOD /path" section per endpoint of the OpenAPI document', () => {
    const documented = [...apiMd.matchAll(/^### (GET|PUT|POST|DELETE|PATCH|OPTIONS|HEAD) (\/\S*)\s*$/gm)]
      .map((m) => `${m[1]} ${m[2]}`)
      .sort();
    assert.ok(documented.length > 0, 'endpoint headings found');
    assert.deepEqual(documented, operations(doc), 'docs/api.md endpoints = OpenAPI operations');
  });

  test('lists every error code with its status', () => {
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      assert.match(apiMd, new RegExp(`^\\| \`${code}\` \\| ${status} \\|`, 'm'), `error code ${code} (${status})`);
    }
  });

  test('links only inside the repository, as does the README', () => {
    for (const file of ['README.md', join('docs', 'api.md')]) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (target === undefined || /^(https?:|#)/.test(target)) continue;
        const resolved = join(ROOT, file === 'README.md' ? '' : 'docs', target.split('#')[0] ?? '');
        assert.ok(resolved.startsWith(ROOT + '/') || resolved === ROOT, `${file}: ${target} points outside the repository`);
        assert.doesNotThrow(() => readFileSync(resolved), `${file}: ${target} exists`);
      }
    }
  });
});
