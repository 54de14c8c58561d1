/**
 * Relief for one origin over its bound: which of its heavy keys to move, and where, so that the
 * fewest requests change origin. A key moves whole to the first origin along its own ring walk
 * with room for it (the origin its users would fall back to anyway); only when no set of whole
 * keys can take the excess off is one key split (split-key.ts).
 *
 * "Move the hot key, or move lighter keys off its origin, whichever moves fewer requests" is a
 * covering problem: the cheapest set of keys whose rates add up to the excess. Up to EXACT_KEYS
 * candidates it is solved exactly (every subset, ≤ 4,096); beyond, greedily: the smallest single
 * key that covers the excess against the largest-first set of lighter ones, the cheaper wins.
 */
import type { PoolLoad } from "./pool-load.ts";

/** A key that may move: index into the planner's keys, its rate and walk. */
export interface Candidate {
  readonly k: number;
  readonly rate: number;
  readonly walk: readonly number[];
}

/** A whole-key move. */
export interface Move {
  readonly k: number;
  readonly to: number;
}

/** Candidates solved exactly up to this many: 2^12 subsets, a few ms at worst. */
export const EXACT_KEYS = 12;

// Rates are sums of doubles: a cover short by rounding alone still covers.
const SLACK = 1e-9;

/**
 * Destinations for `keys` moving off `from`, each to the first eligible origin of its walk with
 * room left under `fill` × its bound (largest key first, so big keys get the early room); null if
 * one finds none. `fill` is 1 − PLAN_HEADROOM, or 1 when the planner settles for the bound itself.
 */
export function destinations(load: PoolLoad, from: number, keys: readonly Candidate[], fill: number): Move[] | null {
  const extra = new Map<number, number>();
  const moves: Move[] = [];
  const order = [...keys].sort((a, b) => b.rate - a.rate || a.k - b.k);
  for (const key of order) {
    let to = -1;
    for (const m of key.walk) {
      if (m === from || load.eligible[m] !== 1) continue;
      const after = load.load[m]! + (extra.get(m) ?? 0) + key.rate;
      if (after <= fill * load.cap[m]! * (1 + SLACK)) {
        to = m;
        break;
      }
    }
    if (to < 0) return null;
    extra.set(to, (extra.get(to) ?? 0) + key.rate);
    moves.push({ k: key.k, to });
  }
  return moves.sort((a, b) => a.k - b.k);
}

/**
 * The cheapest whole-key relief of `excess` off `from`, the keys landing under `fill` × their new
 * origin's bound, or null when whole keys cannot give it.
 */
export function chooseMoves(
  load: PoolLoad,
  from: number,
  candidates: readonly Candidate[],
  excess: number,
  fill: number,
): Move[] | null {
  const need = excess * (1 - SLACK);
  return candidates.length <= EXACT_KEYS
    ? exact(load, from, candidates, need, fill)
    : greedy(load, from, candidates, need, fill);
}

function exact(
  load: PoolLoad,
  from: number,
  candidates: readonly Candidate[],
  need: number,
  fill: number,
): Move[] | null {
  const count = 1 << candidates.length;
  const sums = new Float64Array(count);
  const covering: number[] = [];
  for (let mask = 1; mask < count; mask++) {
    const low = mask & -mask;
    sums[mask] = sums[mask ^ low]! + candidates[31 - Math.clz32(low)]!.rate;
    if (sums[mask]! >= need) covering.push(mask);
  }
  // Fewest requests first, then fewest keys, then the lowest mask: a total order, so deterministic.
  covering.sort((a, b) => sums[a]! - sums[b]! || popcount(a) - popcount(b) || a - b);
  for (const mask of covering) {
    const moves = destinations(
      load,
      from,
      candidates.filter((_, i) => (mask & (1 << i)) !== 0),
      fill,
    );
    if (moves !== null) return moves;
  }
  return null;
}

function greedy(
  load: PoolLoad,
  from: number,
  candidates: readonly Candidate[],
  need: number,
  fill: number,
): Move[] | null {
  let single: Move[] | null = null;
  let singleRate = Infinity;
  for (const key of [...candidates].sort((a, b) => a.rate - b.rate || a.k - b.k)) {
    if (key.rate < need) continue;
    single = destinations(load, from, [key], fill);
    if (single !== null) {
      singleRate = key.rate;
      break;
    }
  }
  const chosen: Candidate[] = [];
  let sum = 0;
  for (const key of [...candidates].sort((a, b) => b.rate - a.rate || a.k - b.k)) {
    if (sum >= need || key.rate >= need) continue;
    if (destinations(load, from, [...chosen, key], fill) === null) continue;
    chosen.push(key);
    sum += key.rate;
  }
  const several = sum >= need ? destinations(load, from, chosen, fill) : null;
  if (several !== null && sum < singleRate) return several;
  return single;
}

function popcount(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}
