import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countLabel } from '../../bench/report-modes.js';
import { DATA_VERSION, scaleCacheName } from '../../bench/scale-cache.js';
import { batchVerdict, parsePerfStat, roundSpread, rssVerdict, scaleVerdict, spliceSection, writeBehaviour } from '../../bench/verdicts.js';

describe('bench: the scale run', () => {
  test('within 15 %: throughput at least 0.85× and p99 at most 1.15× of the small file', () => {
    const v = scaleVerdict({ rps: 1000, p99: 10 }, { rps: 900, p99: 11 });
    assert.equal(v.rpsRatio, 0.9);
    assert.ok(Math.abs(v.p99Ratio - 1.1) < 1e-12, 'Math.abs(v.p99Ratio - 1.1) < 1e-12');
    assert.equal(v.rpsOk, true);
    assert.equal(v.p99Ok, true);
    const w = scaleVerdict({ rps: 1000, p99: 10 }, { rps: 840, p99: 11.6 });
    assert.equal(w.rpsOk, false);
    assert.equal(w.p99Ok, false);
    // Faster at scale passes too.
    assert.equal(scaleVerdict({ rps: 1000, p99: 10 }, { rps: 1300, p99: 5 }).rpsOk, true);
  });

  test('nothing measured fails rather than passes', () => {
    const v = scaleVerdict({ rps: 0, p99: NaN }, { rps: 900, p99: 1 });
    assert.equal(v.rpsOk, false);
    assert.equal(v.p99Ok, false);
  });

  test('RSS limit in MB (10^6 bytes) from VmHWM in MiB', () => {
    const v = rssVerdict(190);
    assert.ok(Math.abs(v.mb - 199.22944) < 1e-9, 'Math.abs(v.mb - 199.22944) < 1e-9');
    assert.equal(v.ok, true);
    assert.equal(rssVerdict(191).ok, false); // 200.3 MB
    assert.equal(rssVerdict(NaN).ok, false);
  });

  test('the cache file name changes with the record count, the schema and the data generator', () => {
    const a = scaleCacheName(10_000_000, 8);
    assert.equal(a, `scale-10000000-schema8-data${DATA_VERSION}.db`);
    assert.notEqual(scaleCacheName(10_000_000, 9), a);
    assert.notEqual(scaleCacheName(1_000_000, 8), a);
    assert.notEqual(scaleCacheName(10_000_000, 8, DATA_VERSION + 1), a);
  });

  test('record counts are labelled as the flags write them', () => {
    assert.equal(countLabel(10_000_000), '10M');
    assert.equal(countLabel(2_500_000), '2.5M');
    assert.equal(countLabel(100_000), '100k');
    assert.equal(countLabel(500), '500');
  });
});

describe('bench: writes across WORKERS processes', () => {
  test('perf stat CSV: syscall tracepoint counts by name, <not counted> as 0', () => {
    const csv = [
      '',
      '412,,syscalls:sys_enter_fsync,5002311,100.00,,',
      '3,,syscalls:sys_enter_fdatasync,5002311,100.00,,',
      '<not counted>,,syscalls:sys_enter_nanosleep,0,0.00,,',
      '57,,syscalls:sys_enter_clock_nanosleep,5002311,100.00,,',
      'some other line',
    ].join('\n');
    assert.deepEqual(parsePerfStat(csv), { fsync: 412, fdatasync: 3, nanosleep: 0, clock_nanosleep: 57 });
    assert.deepEqual(parsePerfStat('perf: not permitted'), {});
  });

  test('writes per commit and busy sleeps per 1,000 writes over all processes', () => {
    const b = writeBehaviour(1000, [
      { pid: 1, syncs: 0, sleeps: 0 },
      { pid: 2, syncs: 30, sleeps: 20 },
      { pid: 3, syncs: 20, sleeps: 30 },
    ]);
    assert.equal(b.commits, 50);
    assert.equal(b.writesPerCommit, 20);
    assert.equal(b.sleeps, 50);
    assert.equal(b.sleepsPer1000Writes, 50);
    assert.ok(Number.isNaN(writeBehaviour(10, [{ pid: 1, syncs: 0, sleeps: 0 }]).writesPerCommit), 'Number.isNaN(writeBehaviour(10, [{ pid: 1, syncs: 0, sleeps: 0 }]).writesPerCommit)');
  });
});

describe('bench: report sections', () => {
  const report = '# Performance\n\nintro\n\n## Targets\n\n| a |\n';

  test('a section goes before the targets, between its markers', () => {
    const out = spliceSection(report, 'scale', '## Scale\n\nbody one');
    assert.equal(out, '# Performance\n\nintro\n\n<!-- bench:scale -->\n## Scale\n\nbody one\n<!-- /bench:scale -->\n\n## Targets\n\n| a |\n');
  });

  test('a second run replaces its own section and leaves the others', () => {
    const one = spliceSection(spliceSection(report, 'scale', '## Scale\n\nbody one'), 'workers', '## Workers\n\nw');
    const two = spliceSection(one, 'scale', '## Scale\n\nbody two');
    assert.ok(two.includes('body two'), `two.includes('body two')`);
    assert.ok(!two.includes('body one'), `!two.includes('body one')`);
    assert.ok(two.includes('## Workers\n\nw'), `two.includes('## Workers\\n\\nw')`);
    assert.equal(two.split('<!-- bench:scale -->').length, 2);
    assert.equal(spliceSection(two, 'scale', '## Scale\n\nbody two'), two);
  });

  test('without a targets table the section is appended', () => {
    assert.equal(spliceSection('# P\n', 'workers', 'x'), '# P\n\n<!-- bench:workers -->\nx\n<!-- /bench:workers -->\n');
  });
});

describe('bench: batch reads', () => {
  test('100 entities per request: at least 10× the single read\'s entities/s, p99 at most 15 ms', () => {
    const v = batchVerdict({ rps: 8000 }, { rps: 900, p99: 14.9, entities: 100 });
    assert.equal(v.ratio, 11.25);
    assert.equal(v.ratioOk, true);
    assert.equal(v.p99Ok, true);
    const w = batchVerdict({ rps: 8000 }, { rps: 790, p99: 15.1, entities: 100 });
    assert.equal(w.ratioOk, false);
    assert.equal(w.p99Ok, false);
    assert.equal(batchVerdict({ rps: 8000 }, { rps: 800, p99: 15, entities: 100 }).ratioOk, true);
  });

  test('nothing measured fails rather than passes', () => {
    const v = batchVerdict({ rps: 0 }, { rps: 900, p99: NaN, entities: 100 });
    assert.equal(v.ratioOk, false);
    assert.equal(v.p99Ok, false);
  });
});

describe('bench: the spread of a ratio over one group\'s rounds', () => {
  test('pairs round i with round i and reports lowest, median and highest', () => {
    const s = roundSpread([60, 70, 40, 90, 50], [100, 100, 100, 100, 200]);
    assert.deepEqual(s, { min: 0.25, median: 0.6, max: 0.9, rounds: 5 });
  });

  test('an even count takes the mean of the middle two; rounds where the base served nothing are left out', () => {
    const s = roundSpread([10, 20, 30, 40, 99], [100, 100, 100, 100, 0]);
    assert.ok(s !== undefined, 'a spread over four rounds');
    assert.equal(s.rounds, 4);
    assert.ok(Math.abs(s.median - 0.25) < 1e-12, 'Math.abs(s.median - 0.25) < 1e-12');
    assert.equal(s.min, 0.1);
    assert.equal(s.max, 0.4);
  });

  test('fewer than two rounds give no spread', () => {
    assert.equal(roundSpread([10], [20]), undefined);
    assert.equal(roundSpread([10, 20], [0, 20]), undefined);
  });
});
