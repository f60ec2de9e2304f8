import { Counter, Registry } from 'prom-client';

/**
 * A prom-client Counter that takes its label values positionally and caps the
 * number of label sets it will create (`maxSeries`, default 1000): past the cap
 * a new set is counted under one overflow series whose every label is
 * `_overflow`, so a label that strays into per-caller values costs one series,
 * not memory and scrape size without bound.
 */
export class KeyedCounter<L extends string> {
  readonly counter: Counter<L>;
  private readonly names: readonly L[];
  private readonly maxSeries: number;
  private readonly seen = new Set<string>();

  constructor(opts: { name: string; help: string; labelNames: readonly L[]; registry: Registry; maxSeries?: number }) {
    this.names = opts.labelNames;
    this.maxSeries = opts.maxSeries ?? 1000;
    this.counter = new Counter<L>({ name: opts.name, help: opts.help, labelNames: opts.labelNames, registers: [opts.registry] });
  }

  /** Label values in `labelNames` order. */
  inc(...values: string[]): void {
    const key = JSON.stringify(values);
    if (!this.seen.has(key)) {
      if (this.seen.size >= this.maxSeries) return this.counter.inc(this.labelsOf(this.names.map(() => '_overflow')));
      this.seen.add(key);
    }
    this.counter.inc(this.labelsOf(values));
  }

  private labelsOf(values: readonly string[]): Partial<Record<L, string>> {
    const labels: Partial<Record<L, string>> = {};
    this.names.forEach((name, i) => (labels[name] = values[i]));
    return labels;
  }
}
