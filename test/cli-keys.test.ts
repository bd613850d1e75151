import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseKeyFile, verifySecret } from '../src/auth/api-keys.js';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'feature-store-cli-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function keys(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'keys', ...args], {
    env: { ...process.env, KAFKA_BROKERS: '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('feature-store keys', () => {
  test('create prints the secret once as the last line and stores only its hash (file readable by the owner only)', () => {
    const file = join(dir, 'keys.json');
    const res = keys(['create', '--id', 'spark-writer', '--scopes', 'read,write', '--categories', 'd0_unauth_features', '--sources', 'prediction_service', '--file', file]);
    assert.equal(res.status, 0, res.stderr);
    const lines = res.stdout.trimEnd().split('\n');
    const secret = lines.at(-1) ?? '';
    assert.match(secret, /^fsk\.spark-writer\.[A-Za-z0-9_-]{43}$/);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(secret.split('.')[2] ?? '?'), 'the secret is not in the file');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const parsed = parseKeyFile(text);
    assert.deepEqual(
      parsed.keys.map((k) => [k.id, k.scopes, k.categories, k.sources]),
      [['spark-writer', ['read', 'write'], ['d0_unauth_features'], ['prediction_service']]],
    );
    assert.equal(verifySecret(new Map(parsed.keys.map((k) => [k.id, k])), secret)?.id, 'spark-writer');
    // One character changed (never to itself: a secret ending in 'A' once made this check compare the secret with itself).
    const altered = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    assert.equal(verifySecret(new Map(parsed.keys.map((k) => [k.id, k])), altered), undefined);

    const reader = keys(['create', '--id', 'reader', '--scopes', 'read'], { API_KEYS_FILE: file });
    assert.equal(reader.status, 0, reader.stderr);
    const listed = keys(['list', '--file', file]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /^spark-writer\tread,write\tcategories d0_unauth_features\tsources prediction_service\tcreated \S+$/m);
    assert.match(listed.stdout, /^reader\tread\tall categories\tsources -\tcreated \S+$/m);
    assert.ok(!listed.stdout.includes('sha256:'), 'list shows no hashes');

    const revoked = keys(['revoke', 'reader', '--file', file]);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.deepEqual(parseKeyFile(readFileSync(file, 'utf8')).keys.map((k) => k.id), ['spark-writer']);
  });

  test('refuses what would make a bad key, with exit status 2 and nothing written', () => {
    const file = join(dir, 'refused.json');
    const cases: [string[], RegExp][] = [
      [['create', '--id', 'w', '--scopes', 'write'], /needs --sources/],
      [['create', '--id', 'bad id', '--scopes', 'read'], /--id must match/],
      [['create', '--id', 'x', '--scopes', 'read,root'], /unknown root/],
      [['create', '--id', 'x', '--scopes', 'read', '--categories', 'nope'], /nope not in CATEGORY_WHITELIST/],
      [['create', '--id', 'x', '--scopes', 'write', '--sources', 'someone'], /someone not in WRITE_SOURCES/],
      [['revoke', 'ghost'], /no key 'ghost'|cannot read/],
      [['create', '--id', 'x', '--scopes', 'read', '--bogus'], /Unknown option/],
    ];
    for (const [args, message] of cases) {
      const res = keys([...args, '--file', file]);
      assert.notEqual(res.status, 0, args.join(' '));
      assert.match(res.stderr, message, args.join(' '));
    }
    assert.equal(keys(['list']).status, 2, 'no file given');
    assert.throws(() => readFileSync(file), /ENOENT/);
  });
});

describe('open mode only by choice', () => {
  test('a non-loopback HOST without API_KEYS_FILE refuses to start unless OPEN_ACCESS=true', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'feature-store.internal']) {
      assert.throws(() => loadConfig({ HOST: host }), (err: unknown) => err instanceof ConfigError && /API_KEYS_FILE.*OPEN_ACCESS=true/.test(err.message), host);
      assert.equal(loadConfig({ HOST: host, OPEN_ACCESS: 'true' }).access.openAccess, true);
      assert.equal(loadConfig({ HOST: host, API_KEYS_FILE: '/etc/feature-store/keys.json' }).access.metrics, 'admin');
    }
    for (const host of ['127.0.0.1', '127.0.0.53', 'localhost', '::1']) assert.equal(loadConfig({ HOST: host }).access.docs, 'open', host);
    assert.throws(() => loadConfig({ METRICS_ACCESS: 'admin' }), /METRICS_ACCESS=admin needs API_KEYS_FILE/);
  });
});
