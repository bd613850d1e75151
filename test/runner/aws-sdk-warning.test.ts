import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTestRunner } from '../support/test-runner.js';

/**
 * The AWS SDK's warning about the Node version (emitted once per process that builds a
 * DynamoDB client) appears at most once per test run - from the runner itself - and never
 * from the test files, however many of them use DynamoDB. (On a Node the SDK is content with
 * it does not appear at all.)
 */
test("the AWS SDK's Node version warning appears at most once per test run, never per test file", { timeout: 300_000 }, async () => {
  const brokers = process.env.KAFKA_BROKERS?.trim();
  assert.ok(brokers, 'KAFKA_BROKERS is set (the runner sets it)');
  const { code, out } = await runTestRunner(['test/store/dynamodb-config.test.ts', 'test/store/dynamodb-encoding.test.ts'], { KAFKA_BROKERS: brokers });
  assert.equal(code, 0, out);
  const warnings = out.split('\n').filter((line) => line.includes('NodeVersionSupportWarning'));
  assert.deepEqual(
    warnings.filter((line) => line.startsWith('#')),
    [],
    'no test file prints it (their stderr reaches the output as "# " lines)',
  );
  assert.ok(warnings.length <= 1, `printed ${warnings.length} times:\n${warnings.join('\n')}`);
});
