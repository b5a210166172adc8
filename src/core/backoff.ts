/** Exponential back-off: `baseMs` before the first retry (`n` = 1), doubling with each, at most `maxMs`. */
export function backoffMs(n: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, n - 1));
}
