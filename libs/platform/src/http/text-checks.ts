/**
 * Text that may not enter the apps. A NUL cannot be stored in a Postgres text column (the driver
 * fails the whole query), and a lone UTF-16 surrogate is not text at all: it cannot be encoded as
 * UTF-8, so `encodeURIComponent`, `Buffer.from` and every database driver either throw or
 * silently replace it. Both are refused where a string first arrives, so no code behind the edge
 * has to think about them.
 */
export function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character';
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) return 'contains a lone UTF-16 surrogate';
  return undefined;
}

/**
 * The first problem in any string (or object key) of a value, with where it was found, e.g.
 * `body.devices[2].name`. Iterative, so a deep value cannot overflow the stack.
 */
export function valueTextProblem(value: unknown, root: string): string | undefined {
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length) {
    const [v, where] = stack.pop() as [unknown, string];
    if (typeof v === 'string') {
      const p = textProblem(v);
      if (p) return `${where} ${p}`;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${where}[${i}]`]);
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const p = textProblem(k);
        // The key itself is not echoed: it is the part that is not printable.
        if (p) return `a key in ${where} ${p}`;
        stack.push([child, /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${where}.${k}` : `${where}[…]`]);
      }
    }
  }
  return undefined;
}
