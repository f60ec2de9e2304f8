import { Counter, Registry } from 'prom-client';

/**
 * A prom-client Counter for the per-request hot path. `Counter.inc(labels)`
 * hashes its label object (sorted keys, joined) on every call; here a request
 * bumps a number in a Map under a joined key, and the totals are handed to
 * the Counter when /metrics is scraped (prom-client's `collect`).
 */
export class KeyedCounter<L extends string> {
  private readonly counts = new Map<string, { labels: Partial<Record<L, string>>; n: number }>();
  readonly counter: Counter<L>;
  private readonly names: readonly L[];

  constructor(opts: { name: string; help: string; labelNames: readonly L[]; registry: Registry }) {
    const counts = this.counts;
    this.names = opts.labelNames;
    this.counter = new Counter<L>({
      name: opts.name,
      help: opts.help,
      labelNames: opts.labelNames,
      registers: [opts.registry],
      collect(this: Counter<L>) {
        this.reset();
        for (const { labels, n } of counts.values()) this.inc(labels, n);
      },
    });
  }

  /** Label values in `labelNames` order. */
  inc(...values: string[]): void {
    const key = values.join('\u0000');
    const hit = this.counts.get(key);
    if (hit) {
      hit.n++;
      return;
    }
    const labels: Partial<Record<L, string>> = {};
    // Only the names given at construction; values are the caller's bounded labels.
    this.names.forEach((name, i) => (labels[name] = values[i]));
    this.counts.set(key, { labels, n: 1 });
  }
}
