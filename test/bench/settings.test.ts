import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadSettings } from '../../bench/settings.js';

// autocannon: no dependence on /usr/bin/wrk being installed where the tests run.
const AC = ['--loadgen=autocannon'];

describe('bench settings: the optional runs', () => {
  test('by default neither the scale run nor the WORKERS run is on', () => {
    const s = loadSettings({}, AC);
    assert.equal(s.scaleRecords, 0);
    assert.deepEqual(s.workers, []);
    assert.equal(s.scaleOnly, false);
    assert.equal(s.workersOnly, false);
    assert.equal(s.timeoutSeconds, 1200);
    assert.equal(s.scaleCacheDir, 'bench/.cache');
  });

  test('--scale takes record counts with k and m suffixes', () => {
    assert.equal(loadSettings({}, [...AC, '--scale=10m']).scaleRecords, 10_000_000);
    assert.equal(loadSettings({}, [...AC, '--scale=500k']).scaleRecords, 500_000);
    assert.equal(loadSettings({}, [...AC, '--scale=2.5M']).scaleRecords, 2_500_000);
    assert.equal(loadSettings({}, [...AC, '--scale=250000']).scaleRecords, 250_000);
    assert.throws(() => loadSettings({}, [...AC, '--scale=lots']), /--scale must be a record count/);
    assert.throws(() => loadSettings({}, [...AC, '--scale=10']), /--scale must be a record count/);
  });

  test('the scale run gets an hour by default (a first run seeds the file), BENCH_TIMEOUT still wins', () => {
    assert.equal(loadSettings({}, [...AC, '--scale=10m']).timeoutSeconds, 3600);
    assert.equal(loadSettings({ BENCH_TIMEOUT: '900' }, [...AC, '--scale=10m']).timeoutSeconds, 900);
  });

  test('--scale-only and --workers-only imply the default sizes', () => {
    const a = loadSettings({}, [...AC, '--scale-only']);
    assert.equal(a.scaleRecords, 10_000_000);
    assert.equal(a.scaleOnly, true);
    assert.deepEqual(a.workers, []);
    const b = loadSettings({}, [...AC, '--workers-only']);
    assert.deepEqual(b.workers, [1, 2]);
    assert.equal(b.scaleRecords, 0);
    assert.equal(loadSettings({}, [...AC, '--scale=1m', '--scale-only']).scaleRecords, 1_000_000);
  });

  test('--workers is a list of process counts, duplicates dropped', () => {
    assert.deepEqual(loadSettings({}, [...AC, '--workers=1,2,4']).workers, [1, 2, 4]);
    assert.deepEqual(loadSettings({}, [...AC, '--workers=2,2']).workers, [2]);
    assert.throws(() => loadSettings({}, [...AC, '--workers=0,2']), /--workers must be a list/);
    assert.throws(() => loadSettings({}, [...AC, '--workers=two']), /--workers must be a list/);
  });

  test('BENCH_SCALE_CACHE moves the cache', () => {
    assert.equal(loadSettings({ BENCH_SCALE_CACHE: '/var/tmp/fs-cache' }, AC).scaleCacheDir, '/var/tmp/fs-cache');
  });
});
