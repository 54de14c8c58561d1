/** One request's walk: the primary and its successors over the pools, in the request's pool order. */
import { walkRing } from "../ring/ring.ts";
import type { RoutingTable } from "./routing-table.ts";
import type { RoutingView } from "./routing-view.ts";

const poolWalks: Uint32Array[] = [];

/**
 * Writes into `out` the indices (into `table.origins`) of the origins that take a key hash under
 * `view` (computed from this table): the primary first, then its successors, all distinct. Pools
 * are tried in `order` (indices into table.pools; default: table order): the first pool with an
 * eligible origin gives the primary and its ring successors, the next pools fill the remaining
 * places; with three or more places and another eligible pool, the last place is that pool's (so
 * a retry crosses into the next region after the home pool's primary and successor). Returns how
 * many were written.
 */
export function pickOrigins(
  table: RoutingTable,
  view: RoutingView,
  keyHash: number,
  out: Uint32Array | number[],
  order: ArrayLike<number> | null = null,
): number {
  if (view.eligibleCount === 0) return 0;
  const { pools } = table;
  // One pool (no regions): walk straight into `out`, as before pools existed.
  if (pools.length === 1 && pools[0]!.identity) return walkRing(pools[0]!.ring, keyHash, view.poolWeights[0]!, out);
  let written = 0;
  const count = order === null ? pools.length : order.length;
  for (let k = 0; k < count && written < out.length; k++) {
    const p = order === null ? k : order[k]!;
    if (view.poolEligible[p] === 0) continue;
    const pool = pools[p]!;
    let room = out.length - written;
    // The home pool keeps its primary and ring successor but leaves the last place to the next pool
    // with an eligible origin: a region that fails as a whole (before its probes take it out) still
    // gets one try elsewhere, instead of spending every attempt on its own failing origins.
    if (written === 0 && room > 2 && laterEligible(view, order, k + 1, count)) room--;
    const walked = (poolWalks[room] ??= new Uint32Array(room));
    const n = walkRing(pool.ring, keyHash, view.poolWeights[p]!, walked);
    for (let i = 0; i < n; i++) out[written + i] = pool.members[walked[i]!]!;
    written += n;
  }
  return written;
}

/** True when a pool after position `from` of the order has an eligible origin. */
function laterEligible(view: RoutingView, order: ArrayLike<number> | null, from: number, count: number): boolean {
  for (let k = from; k < count; k++) if (view.poolEligible[order === null ? k : order[k]!]! > 0) return true;
  return false;
}
