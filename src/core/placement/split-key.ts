/**
 * A key too big to move whole (one NAT address carrying more than any origin has room for): its
 * users are spread over up to k origins along the key's own ring walk, its primary first. The
 * primary keeps as much as fits (and every user without the affinity cookie), each next origin of
 * the walk takes what room it has, so only the excess moves and the users who move land where the
 * ring would send them on a failure anyway.
 */
import type { Share, PoolLoad } from "./pool-load.ts";

/**
 * A split aims this share of the bound below it on every origin it uses, its primary included:
 * cookies pin users, not requests, so each target's load is the sum of a random set of users
 * (150 users over 3 targets: about ±3 % of a target's load), and the headroom absorbs that.
 */
export const SPLIT_HEADROOM = 0.05;

/**
 * The shares that take `excess` (at most the whole key) off `primary` along `walk`, using at most
 * `maxSplit` origins with the primary; the primary's share is first, even when it is 0. Null when
 * no other origin of the walk has room.
 */
export function splitShares(
  load: PoolLoad,
  primary: number,
  walk: readonly number[],
  rate: number,
  excess: number,
  maxSplit: number,
): Share[] | null {
  if (!(rate > 0)) return null;
  let need = Math.min(rate, excess + SPLIT_HEADROOM * load.cap[primary]!);
  const shares: Share[] = [];
  for (const m of walk) {
    if (need <= 0 || shares.length >= maxSplit - 1) break;
    if (m === primary || load.eligible[m] !== 1) continue;
    const room = (1 - SPLIT_HEADROOM) * load.cap[m]! - load.load[m]!;
    if (!(room > 0)) continue;
    const take = Math.min(room, need);
    shares.push([m, take / rate]);
    need -= take;
  }
  if (shares.length === 0) return null;
  const moved = shares.reduce((sum, [, w]) => sum + w, 0);
  return [[primary, Math.max(0, 1 - moved)], ...shares];
}
