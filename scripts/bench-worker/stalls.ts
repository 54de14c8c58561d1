/**
 * Whether two workers' slowest requests came at the same instants (open loop, `--rate`). Both
 * workers run at once on one core, so a stall of the machine (the host, or the core with the load
 * generators and origins) slows both: a share far above chance says the tail is mostly such stalls;
 * a share near chance says the first worker's slow requests are its own.
 */
import type { FigureTable } from "../lib/part-result.ts";
import { median, spread } from "../lib/stats.ts";
import type { PairRun } from "./rounds.ts";

/** The share of `a`'s slow requests sent within `windowMs` of one of `b`'s, and that share by chance. */
export function sharedSlow(
  a: readonly number[],
  b: readonly number[],
  spanMs: number,
  windowMs = 10,
): { shared: number; chance: number } {
  const sorted = [...b].sort((x, y) => x - y);
  const near = (t: number) => {
    // The first of b's at or after t − windowMs (binary search), and whether it is within t + windowMs.
    let [lo, hi] = [0, sorted.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < t - windowMs) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length && sorted[lo]! <= t + windowMs;
  };
  const shared = a.length === 0 ? Number.NaN : a.filter(near).length / a.length;
  // By chance: the part of the measured span within windowMs of one of b's (the union of the intervals).
  let covered = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const t of sorted) {
    const [from, to] = [Math.max(t - windowMs, end), t + windowMs];
    if (to > from) covered += to - from;
    end = Math.max(end, to);
  }
  return { shared, chance: Math.min(1, covered / spanMs) };
}

/** Per pair, over the rounds: how many of each worker's slowest 1 % fell at the other's slow instants. */
export function stallTable(
  runs: readonly PairRun[],
  pairNames: readonly string[],
  seconds: number,
  windowMs = 10,
): FigureTable | null {
  const rows: string[][] = [];
  for (const name of pairNames) {
    const mine = runs.filter((r) => r.pair === name && r.a.slowSentAt !== undefined && r.b.slowSentAt !== undefined);
    if (mine.length === 0) continue;
    const each = mine.map((r) => sharedSlow(r.a.slowSentAt!, r.b.slowSentAt!, seconds * 1000, windowMs));
    const pct = (v: number) => `${(v * 100).toFixed(0)} %`;
    const shared = spread(each.map((e) => e.shared));
    rows.push([
      name,
      String(mine.length),
      pct(shared.median),
      `${pct(shared.low)}–${pct(shared.high)}`,
      pct(median(each.map((e) => e.chance))),
    ]);
  }
  if (rows.length === 0) return null;
  return {
    title: `The first worker's slowest 1 %: sent within ${windowMs} ms of one of the other's (median over the rounds)`,
    head: ["pair", "rounds", "shared", "middle half", "by chance"],
    rows,
  };
}
