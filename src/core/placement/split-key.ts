/**
 * A key too big to move whole (one NAT address carrying more than any origin has room for): its
 * users are spread over up to k origins along the key's own ring walk, its primary first. The
 * primary keeps as much as fits (and every user without the affinity cookie), each next origin of
 * the walk takes what room it has, so only the excess moves and the users who move land where the
 * ring would send them on a failure anyway.
 */
import type { Share, PoolLoad } from "./pool-load.ts";

/**
 * A split aims at least this share of the bound below it on every origin it uses, its primary
 * included: cookies pin users, not requests, so each target's load is the sum of a random set of
 * users. The planner passes PLAN_HEADROOM (placement.ts), wider for Zipf-weighted users; this is
 * the floor, also when it settles for the bound itself.
 */
export const SPLIT_HEADROOM = 0.05;

/**
 * The shares that bring `primary` down to (1 − `headroom`) × its bound (taking at most the whole
 * key off it) along `walk`, each other origin filled to the same share of its own bound, using at
 * most `maxSplit` origins with the primary; the primary's share is first, even when it is 0. Null
 * when no other origin of the walk has room. `headroom` is at least SPLIT_HEADROOM.
 */
export function splitShares(
  load: PoolLoad,
  primary: number,
  walk: readonly number[],
  rate: number,
  maxSplit: number,
  headroom: number,
): Share[] | null {
  if (!(rate > 0)) return null;
  const fill = 1 - Math.max(SPLIT_HEADROOM, headroom);
  let need = Math.min(rate, load.load[primary]! - fill * load.cap[primary]!);
  const shares: Share[] = [];
  for (const m of walk) {
    if (need <= 0 || shares.length >= maxSplit - 1) break;
    if (m === primary || load.eligible[m] !== 1) continue;
    const room = fill * load.cap[m]! - load.load[m]!;
    if (!(room > 0)) continue;
    const take = Math.min(room, need);
    shares.push([m, take / rate]);
    need -= take;
  }
  if (shares.length === 0) return null;
  const moved = shares.reduce((sum, [, w]) => sum + w, 0);
  return [[primary, Math.max(0, 1 - moved)], ...shares];
}
