/**
 * Order statistics for the measuring scripts. The scripts pick a rank in one of three ways, each
 * named here so that a figure's definition stays what its report has always used.
 */

const ascending = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

/** The ⌈q·n⌉-th smallest value (nearest rank: q = 0.5 is the lower median), NaN when there is none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = ascending(values);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The lower median by nearest rank. */
export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** The 99th percentile by nearest rank. */
export const p99 = (values: readonly number[]): number => quantile(values, 0.99);

/** The sorted values' entry at index ⌊q·n⌋ (q = 0.5 is the upper median of an even count). */
export function quantileAtFloor(values: readonly number[], q: number): number {
  return ascending(values)[Math.floor(q * values.length)]!;
}

/** The upper median: the sorted values' entry at index ⌊n / 2⌋. */
export const upperMedian = (values: readonly number[]): number => quantileAtFloor(values, 0.5);

/** The sorted values' entry at index ⌊q·(n − 1)⌋ (q = 0 the least, q = 1 the greatest). */
export function quantileBelow(values: readonly number[], q: number): number {
  return ascending(values)[Math.floor(q * (values.length - 1))]!;
}

/** A ratio over rounds: the median and the middle half (quartiles by nearest rank). */
export interface Spread {
  readonly median: number;
  readonly low: number;
  readonly high: number;
  readonly each: readonly number[];
}

/** The median and middle half of `each`. */
export const spread = (each: readonly number[]): Spread => ({
  median: quantile(each, 0.5),
  low: quantile(each, 0.25),
  high: quantile(each, 0.75),
  each,
});
