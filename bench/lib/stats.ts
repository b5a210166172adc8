/** Percentiles of a set of samples (milliseconds), nearest-rank on the sorted values. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { n: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** Milliseconds with as many decimals as the magnitude deserves. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs < 0.01 ? 4 : abs < 1 ? 3 : abs < 10 ? 2 : abs < 100 ? 1 : 0;
  return `${value.toFixed(digits)} ms`;
}

/** `ferry / floor` as a multiplier. */
export function ratio(ferry: number, floor: number): string {
  if (!Number.isFinite(ferry) || !Number.isFinite(floor) || floor <= 0) return 'n/a';
  const r = ferry / floor;
  return `${r < 10 ? r.toFixed(2) : r.toFixed(1)}×`;
}

export function perSecond(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value).toLocaleString('en-US')} tasks/s` : 'n/a';
}
