import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ERROR_CODE_LIST } from '../../src/contract/error-codes.js';
import { NAMED_SCHEMAS } from '../../src/http/openapi.js';
import { isRecord } from '../support/kafka-consumer.js';
import { openApiDocument, type OpenApiDocument } from '../support/openapi.js';

/** Every `$ref` below `node`. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (isRecord(node)) {
    if (typeof node.$ref === 'string') out.push(node.$ref);
    for (const v of Object.values(node)) refs(v, out);
  }
  return out;
}

function at(node: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((n, key) => (isRecord(n) ? n[key] : undefined), node);
}

function parameter(doc: OpenApiDocument, path: string, method: string, name: string): unknown {
  const params = doc.paths[path]?.[method]?.parameters;
  return Array.isArray(params) ? params.find((p) => isRecord(p) && p.name === name) : undefined;
}

describe('OpenAPI document', () => {
  test('every status of every operation is described, with a schema from the components', async () => {
    const doc = await openApiDocument();
    const schemas = at(doc, 'components', 'schemas');
    assert.ok(isRecord(schemas), 'isRecord(schemas)');
    for (const name of Object.keys(NAMED_SCHEMAS)) assert.ok(isRecord(schemas[name]), `component ${name}`);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const responses = op.responses;
        assert.ok(isRecord(responses) && Object.keys(responses).length > 0, `${method} ${path}: responses`);
        assert.ok(typeof op.summary === 'string' && op.summary !== '', `${method} ${path}: summary`);
        for (const [status, response] of Object.entries(responses)) {
          const description = at(response, 'description');
          assert.ok(typeof description === 'string' && description.length > 10, `${method} ${path} ${status}: description`);
          assert.notEqual(description, 'Default Response', `${method} ${path} ${status}`);
          assert.match(String(at(response, 'content', 'application/json', 'schema', '$ref')), /^#\/components\/schemas\/\w+$/, `${method} ${path} ${status}: named schema`);
        }
      }
    }
    for (const ref of refs(doc)) {
      const name = ref.replace('#/components/schemas/', '');
      assert.ok(isRecord(schemas[name]), `${ref} resolves`);
    }
    assert.ok(isRecord(at(schemas, 'WriteRequest', 'example')), 'whole-body example of a write');
    assert.ok(isRecord(at(schemas, 'ErrorResponse', 'example')), 'example error');
    const codes = JSON.stringify(at(schemas, 'ErrorResponse', 'properties', 'code'));
    for (const code of ERROR_CODE_LIST) assert.ok(codes.includes(`"${code}"`), `error code ${code} documented`);
  });

  test('allow-lists and entity types are enums taken from the configuration', async () => {
    const env = { ENTITY_TYPES: 'bright_uid,device_id', CATEGORY_WHITELIST: 'a_features,b_features', WRITE_SOURCES: 'job_a,job_b' };
    const doc = await openApiDocument(env);
    const write = at(doc, 'components', 'schemas', 'WriteRequest', 'properties');
    assert.deepEqual(at(write, 'data', 'properties', 'entity_type', 'enum'), ['bright_uid', 'device_id']);
    assert.deepEqual(at(write, 'data', 'properties', 'category', 'enum'), ['a_features', 'b_features']);
    assert.deepEqual(at(write, 'meta', 'properties', 'source', 'enum'), ['job_a', 'job_b']);
    const multi = at(doc, 'components', 'schemas', 'MultiReadRequest', 'properties', 'data', 'properties');
    assert.deepEqual(at(multi, 'entity_type', 'enum'), ['bright_uid', 'device_id']);
    const read = '/api/v1/get/item/{entity_value}/{category}';
    assert.deepEqual(at(parameter(doc, read, 'get', 'category'), 'schema', 'enum'), ['a_features', 'b_features']);
    assert.deepEqual(at(parameter(doc, read, 'get', 'entity_type'), 'schema', 'enum'), ['bright_uid', 'device_id']);
    assert.ok(!JSON.stringify(doc).includes('x-enum-from'), 'no mark left in the document');
  });
});
