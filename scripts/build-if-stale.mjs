#!/usr/bin/env node
// Compiles src/ to dist/ (tsc -p tsconfig.build.json) only when a source changed since the last
// successful build, so that `npm start` (its `prestart`) costs a stat of the sources, not a
// compile. "Changed" means a file or directory under src/, or a tsconfig, is newer than the
// stamp written after the last build that succeeded; a deleted file changes its directory's
// mtime, so it counts too. `npm run build` always compiles. The typed client package
// (packages/client, scripts/build-client.mjs) is built with it: it shares the contract module.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'dist', '.build-stamp');
const force = process.argv.includes('--force');

/** Newest mtime (ms) of `path` and, for a directory, of everything below it. */
function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), st.mtimeMs);
}

function stampTime() {
  try {
    return statSync(stamp).mtimeMs;
  } catch {
    return -1;
  }
}

const sources = Math.max(
  newest(join(root, 'src')),
  newest(join(root, 'tsconfig.json')),
  newest(join(root, 'tsconfig.build.json')),
  newest(join(root, 'packages', 'client', 'src')),
  newest(join(root, 'packages', 'client', 'tsconfig.json')),
);
if (!force && stampTime() >= sources) process.exit(0);

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const started = Date.now();
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('build failed: dist/ is not up to date');
  process.exit(result.status ?? 1);
}
const client = spawnSync(process.execPath, [join(root, 'scripts', 'build-client.mjs'), ...(force ? ['--force'] : [])], { cwd: root, stdio: 'inherit' });
if (client.status !== 0) process.exit(client.status ?? 1);
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.error(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
