/**
 * Step 2 of a plan: while an origin is over its bound (the most loaded relative to its bound first),
 * keys still on their ring primary move off it until it is back under (1 − PLAN_HEADROOM) × its
 * bound, each landing where its new origin stays under that too (placement.ts says why); when no
 * relief reaches that, one that reaches the bound itself. In order of preference:
 * 1. the cheapest set of whole keys, each to the first origin of its walk with room (choose-moves.ts);
 * 2. a key with many users that alone covers the excess is split along its walk (split-key.ts):
 *    exactly the excess moves, the fewest requests possible;
 * 3. a key that alone covers the excess moves whole and lighter keys make room for it (make-room.ts);
 * 4. the largest splittable key is split for part of the excess, and the loop goes on.
 * A key moves at most once per plan and a held key never moves here, so nobody flaps.
 */
import { chooseMoves, type Candidate } from "./choose-moves.ts";
import { decide, type KeyState } from "./key-state.ts";
import { makeRoom } from "./make-room.ts";
import { MIN_SPLIT_USERS, PLAN_HEADROOM } from "./placement.ts";
import type { PoolLoad } from "./pool-load.ts";
import { splitShares } from "./split-key.ts";

/** Moves keys off every origin over its bound, as far as the keys allow. */
export function relieve(load: PoolLoad, keys: KeyState[], maxSplit: number): void {
  const ids = load.ring.ids;
  const stuck = new Uint8Array(ids.length);
  // Keys that may still move off `member`: on their ring primary, never placed, wholly on it.
  const candidatesOn = (member: number): Candidate[] => {
    const out: Candidate[] = [];
    keys.forEach((state, k) => {
      const whole = state.after.length === 1 && state.after[0]![0] === member;
      if (state.decision === "natural" && state.rate > 0 && whole) out.push({ k, rate: state.rate, walk: state.walk });
    });
    return out;
  };
  // One relief step off `from` aiming at `fill` × the bounds; false when no step is possible.
  const step = (from: number, fill: number): boolean => {
    const excess = load.load[from]! - fill * load.cap[from]!;
    const candidates = candidatesOn(from);
    const moves = candidates.length === 0 ? null : chooseMoves(load, from, candidates, excess, fill);
    if (moves !== null) {
      for (const { k, to } of moves) decide(load, keys[k]!, [[to, 1]]);
      return true;
    }
    // The largest key a cookie can spread (ties: the first in key order).
    const splittable = candidates.filter(({ k }) => canSplit(keys[k]!, load.cap[from]!));
    const biggest = splittable.reduce<Candidate | null>((a, b) => (a === null || b.rate > a.rate ? b : a), null);
    const split = () =>
      biggest === null ? null : splitShares(load, from, keys[biggest.k]!.walk, biggest.rate, maxSplit, 1 - fill);
    if (biggest !== null && biggest.rate >= excess) {
      const shares = split();
      if (shares !== null) {
        decide(load, keys[biggest.k]!, shares);
        return true;
      }
    }
    const steps = candidates.length === 0 ? null : makeRoom(load, from, candidates, candidatesOn, excess, fill);
    if (steps !== null) {
      for (const { k, to } of steps) decide(load, keys[k]!, [[to, 1]]);
      return true;
    }
    const shares = split();
    if (shares !== null) decide(load, keys[biggest!.k]!, shares);
    return shares !== null;
  };
  for (let round = 0; round <= keys.length + ids.length; round++) {
    // Over means over the bound itself: an origin between the planned fill and the bound stays.
    let from = -1;
    let worst = 1 + 1e-9;
    for (let m = 0; m < ids.length; m++) {
      if (load.eligible[m] !== 1 || stuck[m] === 1) continue;
      const ratio = load.load[m]! / load.cap[m]!;
      if (ratio > worst) {
        worst = ratio;
        from = m;
      }
    }
    if (from < 0) return;
    // The headroom is a preference: a relief to the bound itself beats none.
    if (!step(from, 1 - PLAN_HEADROOM) && !step(from, 1)) stuck[from] = 1;
  }
}

// Many users behind it, or more than the origin's whole bound: only a split can relieve it then.
function canSplit(state: KeyState, cap: number): boolean {
  return (state.users !== null && state.users >= MIN_SPLIT_USERS) || state.rate > cap;
}
