import type { Metric, Registry } from 'prom-client';

/**
 * A Prometheus counter and histogram for the per-request hot path. prom-client hashes and
 * validates a label set on every `inc`/`observe`, even through `labels(…)` children (about
 * 1.5 µs each; a read made four such calls). Here a label set is bound once with `labels(…)`
 * (cached by value) and the child's `inc`/`observe` only add numbers. They register in a
 * prom-client `Registry` as custom metrics: `get()` returns what prom-client's own `Counter` and
 * `Histogram` return, so the exposition is the same (a unit test compares it byte for byte).
 * Label sets are never removed: bind only bounded values (routes, allow-listed names). A set
 * appears in the exposition from its first `inc`/`observe` on, as with prom-client.
 */

interface Config<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

type Labels<L extends string> = Partial<Record<L, string | number>>;

/** One exported value, as prom-client's registry reads it. */
interface ExportedValue<L extends string> {
  value: number;
  labels: Labels<L> | { le: number | string };
  sharedLabels?: Labels<L>;
  metricName?: string;
}

/** What prom-client's registry reads from a metric's `get()`. */
interface Values<L extends string> {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExportedValue<L>[];
  aggregator: 'sum';
}

abstract class BoundMetric<L extends string, C> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly L[];
  protected readonly children = new Map<string, { labels: Labels<L>; child: C }>();

  constructor(config: Config<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric<L>);
  }

  /**
   * The children by their label values, one map level per label (the last level holds the
   * child): a bound set is found with one map lookup per value, without joining the values into
   * a key string per call (a read counts one or two sets per request).
   */
  readonly #byValues = new Map<string, unknown>();

  /** The child of these label values, in `labelNames` order (bound once, then cached). */
  labels(...values: string[]): C {
    const last = values.length - 1;
    if (last < 0 || last !== this.labelNames.length - 1) return this.#bind(values);
    let level = this.#byValues;
    for (let i = 0; i < last; i++) {
      const next = level.get(values[i] as string) as Map<string, unknown> | undefined;
      if (next === undefined) return this.#bind(values);
      level = next;
    }
    const child = level.get(values[last] as string) as C | undefined;
    return child === undefined ? this.#bind(values) : child;
  }

  #bind(values: readonly string[]): C {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: expected ${this.labelNames.length} label values`);
    const key = values.join('\u0000');
    let entry = this.children.get(key);
    if (entry === undefined) {
      const labels: Labels<L> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] as string));
      entry = { labels, child: this.newChild() };
      this.children.set(key, entry);
    }
    if (values.length === 0) return entry.child;
    let level = this.#byValues;
    for (let i = 0; i < values.length - 1; i++) {
      let next = level.get(values[i] as string) as Map<string, unknown> | undefined;
      if (next === undefined) level.set(values[i] as string, (next = new Map<string, unknown>()));
      level = next;
    }
    level.set(values[values.length - 1] as string, entry.child);
    return entry.child;
  }

  protected abstract newChild(): C;
  abstract get(): Promise<Values<L>>;

  reset(): void {
    this.children.clear();
    this.#byValues.clear();
  }
}

export class CounterChild {
  value = 0;
  /** Exported once incremented (as prom-client creates a label set's series on first use). */
  used = false;
  inc(by = 1): void {
    this.value += by;
    this.used = true;
  }
}

export class BoundCounter<L extends string> extends BoundMetric<L, CounterChild> {
  readonly type = 'counter' as const;

  protected newChild(): CounterChild {
    return new CounterChild();
  }

  get(): Promise<Values<L>> {
    const values = [...this.children.values()].filter(({ child }) => child.used).map(({ labels, child }) => ({ value: child.value, labels }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}

export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    if (i < bounds.length) (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }
}

export class BoundHistogram<L extends string> extends BoundMetric<L, HistogramChild> {
  readonly type = 'histogram' as const;
  readonly #bounds: readonly number[];

  constructor(config: Config<L> & { buckets: readonly number[] }) {
    super(config);
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
  }

  protected newChild(): HistogramChild {
    return new HistogramChild(this.#bounds);
  }

  /**
   * The values as prom-client's `Histogram.getForPromString` gives them: `le` as the value's own
   * label and the label set as shared labels, so the exposition puts `le` first as it does.
   */
  getForPromString(): Promise<Values<L>> {
    const values: ExportedValue<L>[] = [];
    for (const { labels, child } of this.children.values()) {
      // A label set is exported once observed, as prom-client creates its series on first use.
      if (child.count === 0) continue;
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += child.counts[i] as number;
        values.push({ value: cumulative, labels: { le: bound }, sharedLabels: labels, metricName: `${this.name}_bucket` });
      });
      values.push({ value: child.count, labels: { le: '+Inf' }, sharedLabels: labels, metricName: `${this.name}_bucket` });
      values.push({ value: child.sum, labels: {}, sharedLabels: labels, metricName: `${this.name}_sum` });
      values.push({ value: child.count, labels: {}, sharedLabels: labels, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The values with each label set merged in, as prom-client's `Histogram.get`. */
  async get(): Promise<Values<L>> {
    const data = await this.getForPromString();
    const values = data.values.map((v) => {
      const { sharedLabels, labels, ...rest } = v;
      return { ...rest, labels: { ...labels, ...sharedLabels } };
    });
    return { ...data, values };
  }
}
