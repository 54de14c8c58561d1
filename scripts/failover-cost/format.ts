/** How the failover report prints durations. */

/** Whole milliseconds, or "–" for none. */
export const ms = (x: number | null) =>
  x === null || Number.isNaN(x) ? "–" : `${Math.round(x).toLocaleString("en")} ms`;

/** Milliseconds with one decimal, or "–" for none. */
export const ms1 = (x: number) => (Number.isNaN(x) ? "–" : `${x.toFixed(1)} ms`);

/** Rounded to one decimal for the JSON, or null for none. */
export const round1 = (x: number | null) => (x === null || Number.isNaN(x) ? null : Math.round(x * 10) / 10);
