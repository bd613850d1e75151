import { spawn } from 'node:child_process';
import { ROOT } from './cli-process.js';

/**
 * `node scripts/run-tests.mjs <files>` (what `npm test` runs) as a child process, with `env`
 * on top of this process's environment minus KAFKA_* (the caller says which broker) and
 * NODE_TEST_CONTEXT (with it, node's test runner in the child would run no file).
 * Resolves with the exit code and everything it wrote (stdout and stderr).
 */
export function runTestRunner(files: readonly string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const inherited = ([key]: [string, unknown]): boolean => !key.startsWith('KAFKA_') && !['KEEP_KAFKA', 'NODE_TEST_CONTEXT'].includes(key);
  const child = spawn(process.execPath, ['scripts/run-tests.mjs', ...files], {
    cwd: ROOT,
    env: { ...Object.fromEntries(Object.entries(process.env).filter(inherited)), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out })));
}
