#!/usr/bin/env node
// The whole test suite. Starts what the tests need that is not already running, runs every
// test file with node's test runner, then stops what it started:
//   - a real Kafka broker, unless KAFKA_BROKERS is set or the broker of KAFKA_STATE_DIR already
//     runs; only a broker this run started is stopped (scripts/test-broker.ts has the rules);
//   - moto (scripts/moto-server.py), the DynamoDB emulator with transactions, shared by every
//     test file through DYNAMODB_TEST_ENDPOINT; a missing moto is a failure. Tests that need
//     dynalite (the events-off paths) start it in-process themselves.
//
//   npm test                      # everything
//   npm test -- test/http         # only files under the given paths
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { tsImport } from 'tsx/esm/api';

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
const cleanups = [];
const totals = { passed: 0, failed: 0 };

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The AWS SDK warns (once per process, when DynamoDB's client is first built) that its coming
 * releases need a newer Node; with one process per test file that was one warning per DynamoDB
 * test file. The runner gives the SDK's own check the chance to warn once, here, and turns the
 * warning off for the test files (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).
 */
function awsSdkVersionWarningOnce() {
  try {
    const sdk = createRequire(createRequire(import.meta.url).resolve('@aws-sdk/client-dynamodb'));
    sdk('@aws-sdk/core/client').emitWarningIfUnsupportedVersion(process.version);
  } catch {
    // An SDK without this check has nothing to warn about.
  }
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}

/** Runs node's test runner on `list`, streaming its output and adding up its counts. */
function runTests(list, extraEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...list], {
    cwd: root,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let tail = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const text = tail + chunk.toString();
    const lines = text.split('\n');
    tail = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^# (pass|fail) (\d+)$/.exec(line);
      if (m) totals[m[1] === 'pass' ? 'passed' : 'failed'] += Number(m[2]);
    }
  });
  return new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
}

async function startMoto() {
  const port = await freePort();
  const moto = spawn('python3', [join(root, 'scripts/moto-server.py'), '127.0.0.1', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  moto.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  let exited = false;
  moto.on('exit', () => {
    exited = true;
  });
  cleanups.push(() => moto.kill('SIGTERM'));
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    if (exited) throw new Error(`moto did not start (pip install "moto[server]"): ${stderr.trim()}`);
    try {
      await fetch(endpoint);
      return endpoint;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error('moto did not answer within 30 s');
}

let code = 0;
awsSdkVersionWarningOnce();
try {
  // The broker scripts are TypeScript; tsx runs them without a build.
  const { acquireTestBroker } = await tsImport('./test-broker.ts', import.meta.url);
  const broker = await acquireTestBroker(env, (line) => console.error(`run-tests: [kafka] ${line}`));
  cleanups.push(() => broker.release());
  env.KAFKA_BROKERS = broker.brokers;
  if (broker.stoppableStateDir === undefined) delete env.KAFKA_TEST_BROKER_DIR;
  else env.KAFKA_TEST_BROKER_DIR = broker.stoppableStateDir;
  console.error(`run-tests: Kafka at ${broker.brokers}: ${broker.origin}`);

  if (!env.DYNAMODB_TEST_ENDPOINT) {
    env.DYNAMODB_TEST_ENDPOINT = await startMoto();
    console.error(`run-tests: moto at ${env.DYNAMODB_TEST_ENDPOINT}`);
  }

  code = await runTests(files);
} catch (err) {
  console.error(`run-tests: ${err instanceof Error ? err.message : String(err)}`);
  code = 1;
} finally {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      console.error(`run-tests: cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
      code ||= 1;
    }
  }
}
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
process.exit(code === 0 && totals.failed === 0 ? 0 : code || 1);
