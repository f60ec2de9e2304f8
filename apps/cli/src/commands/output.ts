/** Prints JSON for scripts (--json) or an aligned table for people. */
export function printResult(
  json: boolean,
  data: unknown,
  rows?: Array<Record<string, unknown>>,
  columns?: string[],
): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  if (!rows) return;
  process.stdout.write(table(rows, columns));
}

export function table(rows: Array<Record<string, unknown>>, columns?: string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (rows.length === 0) return '(none)\n';
  const cell = (v: unknown): string =>
    v === undefined || v === null ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return (
    [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n') + '\n'
  );
}

/** key: value lines for one object. */
export function details(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj);
  const w = Math.max(...keys.map((k) => k.length));
  return (
    keys
      .map(
        (k) =>
          `${k.padEnd(w)}  ${typeof obj[k] === 'object' && obj[k] !== null ? JSON.stringify(obj[k]) : String(obj[k] ?? '-')}`,
      )
      .join('\n') + '\n'
  );
}
