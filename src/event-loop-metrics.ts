import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

const STATS = [
  ['min', 'The minimum recorded event loop delay.'],
  ['max', 'The maximum recorded event loop delay.'],
  ['mean', 'The mean of the recorded event loop delays.'],
  ['stddev', 'The standard deviation of the recorded event loop delays.'],
  ['p50', 'The 50th percentile of the recorded event loop delays.'],
  ['p90', 'The 90th percentile of the recorded event loop delays.'],
  ['p99', 'The 99th percentile of the recorded event loop delays.'],
] as const;

type Stat = (typeof STATS)[number][0];

/**
 * Replaces prom-client's event-loop delay gauges (same names and meaning) with ones that never
 * show garbage. prom-client reads its delay histogram at every scrape and resets it; a scrape
 * with no sample since the last one (the first scrape right after start, or two close together)
 * then reported `min` 9223372036.85 s (the empty histogram's int64 maximum), `mean` and
 * `stddev` NaN. Here such a scrape repeats the last values (0 before the first sample).
 */
export function replaceEventLoopDelayMetrics(registry: Registry, prefix: string): void {
  const name = (stat: Stat): string => `${prefix}nodejs_eventloop_lag_${stat}_seconds`;
  const lagName = `${prefix}nodejs_eventloop_lag_seconds`;
  for (const n of [lagName, ...STATS.map(([stat]) => name(stat))]) registry.removeSingleMetric(n);

  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const gauges = {} as Record<Stat, Gauge>;
  const lag = new Gauge({
    name: lagName,
    help: 'Lag of event loop in seconds.',
    registers: [registry],
    // Collected first (registered first): refreshes every gauge of this group.
    collect() {
      const start = process.hrtime.bigint();
      setImmediate(() => lag.set(Number(process.hrtime.bigint() - start) / 1e9));
      if (histogram.count === 0) return;
      const values: Record<Stat, number> = {
        min: histogram.min,
        max: histogram.max,
        mean: histogram.mean,
        stddev: histogram.stddev,
        p50: histogram.percentile(50),
        p90: histogram.percentile(90),
        p99: histogram.percentile(99),
      };
      for (const [stat] of STATS) gauges[stat].set(values[stat] / 1e9);
      histogram.reset();
    },
  });
  for (const [stat, help] of STATS) gauges[stat] = new Gauge({ name: name(stat), help, registers: [registry] });
}
