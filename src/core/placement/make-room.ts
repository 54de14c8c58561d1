/**
 * The relief of last resort for a key that fits on one origin but finds none with room for it, and
 * is one user (so a cookie split cannot spread it): move it whole to an origin of its walk, and
 * lighter keys off that origin in turn. Moves more requests than a split would, but keeps the one
 * user whole; tried only when the direct moves (choose-moves.ts) cannot give the relief.
 */
import { chooseMoves, type Candidate, type Move } from "./choose-moves.ts";
import type { PoolLoad } from "./pool-load.ts";

/** Origins of the key's walk tried as its new home: its nearest successors, as a failure would. */
export const MAKE_ROOM_REACH = 8;

/**
 * The cheapest pair of steps (a key that alone covers `excess` moves to an origin of its walk;
 * that origin's own keys, from `candidatesOn`, move off as choose-moves would, until it is back
 * under `fill` × its bound), or null.
 */
export function makeRoom(
  load: PoolLoad,
  from: number,
  candidates: readonly Candidate[],
  candidatesOn: (member: number) => Candidate[],
  excess: number,
  fill: number,
): Move[] | null {
  let best: Move[] | null = null;
  let bestCost = Infinity;
  const covering = candidates.filter((c) => c.rate >= excess * (1 - 1e-9)).sort((a, b) => a.rate - b.rate || a.k - b.k);
  for (const key of covering) {
    let tried = 0;
    for (const to of key.walk) {
      if (to === from || load.eligible[to] !== 1) continue;
      if (tried++ >= MAKE_ROOM_REACH) break;
      // The state after the first step, undone below: the second step is chosen against it.
      load.load[from]! -= key.rate;
      load.load[to]! += key.rate;
      const over = load.load[to]! - fill * load.cap[to]!;
      const others = candidatesOn(to).filter((c) => c.k !== key.k);
      const second = over <= 0 ? [] : chooseMoves(load, to, others, over, fill);
      load.load[from]! += key.rate;
      load.load[to]! -= key.rate;
      if (second === null) continue;
      const cost = key.rate + second.reduce((sum, m) => sum + others.find((c) => c.k === m.k)!.rate, 0);
      if (cost < bestCost) {
        bestCost = cost;
        best = [{ k: key.k, to }, ...second];
      }
    }
  }
  return best;
}
