#!/usr/bin/env node
// The whole test suite: starts what the tests need that is not already running (a real Kafka
// broker, unless KAFKA_BROKERS is set; DynamoDB tests start their own emulator in-process),
// runs every test file with node's test runner, then stops what it started.
//
//   npm test                      # everything
//   npm test -- test/http         # only files under the given paths
import { spawnSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);

function findTests(path) {
  const st = statSync(path);
  if (st.isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => findTests(join(path, name)));
}

const files = (args.length > 0 ? args : ['test']).flatMap((p) => findTests(join(root, p))).map((f) => relative(root, f));
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const env = { ...process.env };
let startedKafka = false;
if (!env.KAFKA_BROKERS) {
  console.error('run-tests: starting a local Kafka broker (scripts/kafka-start.sh)…');
  const started = spawnSync('bash', [join(root, 'scripts/kafka-start.sh')], {
    cwd: root,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = started.stdout.trim().split('\n').pop() ?? '';
  if (started.status !== 0 || !last.startsWith('KAFKA_BROKERS=')) {
    console.error('run-tests: the Kafka broker did not start; the event tests need it');
    process.exit(1);
  }
  env.KAFKA_BROKERS = last.slice('KAFKA_BROKERS='.length);
  startedKafka = true;
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: root,
  env,
  stdio: 'inherit',
});
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));

if (startedKafka && env.KEEP_KAFKA !== '1') {
  spawnSync('bash', [join(root, 'scripts/kafka-stop.sh')], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
}
process.exit(code);
