#!/usr/bin/env node
// Builds packages/client (the typed client) to packages/client/dist: its JavaScript and
// declarations, and the contract module's declarations in dist/contract/ (a project reference,
// packages/client/tsconfig.contract.json). The client imports the contract's types from
// ../../../src/contract/ (one source of truth); in the emitted declarations that specifier is
// rewritten to ./contract/ so the package needs no file outside it. Its JavaScript imports
// nothing from the contract (type-only imports are erased).
//   node scripts/build-client.mjs [--force]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = join(root, 'packages', 'client');
const dist = join(pkg, 'dist');
const CONTRACT_FROM_SOURCE = /(["'])\.\.\/\.\.\/\.\.\/src\/contract\//g;

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const args = [tsc, '-b', join(pkg, 'tsconfig.json'), ...(process.argv.includes('--force') ? ['--force'] : [])];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('build failed: packages/client/dist is not up to date');
  process.exit(result.status ?? 1);
}
for (const name of readdirSync(dist)) {
  if (!name.endsWith('.d.ts')) continue;
  const file = join(dist, name);
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(CONTRACT_FROM_SOURCE, '$1./contract/');
  if (fixed !== text) writeFileSync(file, fixed);
}
