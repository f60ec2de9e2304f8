import { Counter, Registry } from 'prom-client';

/**
 * A prom-client Counter for the per-request hot path. `Counter.inc(labels)`
 * hashes its label object (sorted keys, joined) on every call; here a request
 * walks one Map per label, keyed by the label values themselves (constant
 * strings whose hashes V8 has already cached, so nothing is joined or hashed
 * anew), bumps a number, and the totals are handed to the Counter when
 * /metrics is scraped (prom-client's `collect`).
 *
 * The number of label sets is capped (`maxSeries`, default 1000): past it a new
 * set is counted under one overflow series whose every label is `_overflow`, so
 * a label that strays into per-caller values costs one series, not memory and
 * scrape size without bound.
 */
export class KeyedCounter<L extends string> {
  private readonly root: Level = new Map();
  private readonly cells: Cell[] = [];
  readonly counter: Counter<L>;
  private readonly names: readonly L[];
  private readonly maxSeries: number;
  private overflow?: Cell;

  constructor(opts: { name: string; help: string; labelNames: readonly L[]; registry: Registry; maxSeries?: number }) {
    const cells = this.cells;
    this.names = opts.labelNames;
    this.maxSeries = opts.maxSeries ?? 1000;
    this.counter = new Counter<L>({
      name: opts.name,
      help: opts.help,
      labelNames: opts.labelNames,
      registers: [opts.registry],
      collect(this: Counter<L>) {
        this.reset();
        for (const { labels, n } of cells) this.inc(labels as Partial<Record<L, string>>, n);
      },
    });
  }

  /** Label values in `labelNames` order. */
  inc(...values: string[]): void {
    let level: Level = this.root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      const next = level.get(values[i]);
      if (next instanceof Map) level = next;
      else if (this.cells.length >= this.maxSeries) return this.incOverflow();
      else {
        const created: Level = new Map();
        level.set(values[i], created);
        level = created;
      }
    }
    const hit = level.get(values[last]);
    if (hit instanceof Cell) {
      hit.n++;
      return;
    }
    if (this.cells.length >= this.maxSeries) return this.incOverflow();
    const cell = new Cell(this.labelsOf(values));
    level.set(values[last], cell);
    this.cells.push(cell);
  }

  private incOverflow(): void {
    if (this.overflow) this.overflow.n++;
    else {
      // Not in the maps (nothing more is stored per stray value); one more series than the cap, on purpose.
      this.overflow = new Cell(this.labelsOf(this.names.map(() => '_overflow')));
      this.cells.push(this.overflow);
    }
  }

  private labelsOf(values: readonly string[]): Record<string, string> {
    const labels: Record<string, string> = {};
    // Only the names given at construction; values are the caller's labels.
    this.names.forEach((name, i) => (labels[name] = values[i]));
    return labels;
  }
}

class Cell {
  n = 1;
  constructor(readonly labels: Record<string, string>) {}
}
type Level = Map<string, Level | Cell>;
