/**
 * Step 1 of a plan: which held placements to give up. A placement is kept unless the imbalance it
 * answered is clearly over: the keys moved off one origin go back together, once every one of them
 * is past its hold and the origin would stay below (1 − margin) × its bound with all of them back.
 * Together, because the room on an origin is often what a later move made there: taking one key back
 * into it would use that room up and move its users a second time within one imbalance. A key that
 * has gone quiet (a share of its origin's bound under STALE_SHARE) goes back alone, since it takes
 * no room.
 */
import { release, type KeyState } from "./key-state.ts";
import type { PoolLoad } from "./pool-load.ts";

/** A held key this small relative to its primary's bound is released alone when there is room. */
export const STALE_SHARE = 0.01;

/** Releases what is no longer needed (all automatic placements when the bound is off). */
export function releaseHeld(
  load: PoolLoad,
  keys: readonly KeyState[],
  boundFactor: number,
  holdMs: number,
  margin: number,
  now: number,
): void {
  const automatic = keys.filter((s) => s.decision === "held" && !s.held!.manual);
  if (!(boundFactor > 0)) {
    for (const state of automatic) release(load, state);
    return;
  }
  const gain = (s: KeyState) => s.rate * (1 - (s.after.find(([m]) => m === s.primary)?.[1] ?? 0));
  const fits = (primary: number, extra: number) => load.load[primary]! + extra <= (1 - margin) * load.cap[primary]!;
  const groups = new Map<number, KeyState[]>();
  for (const state of automatic) {
    if (state.primary < 0) continue;
    const group = groups.get(state.primary);
    if (group === undefined) groups.set(state.primary, [state]);
    else group.push(state);
  }
  for (const primary of [...groups.keys()].sort((a, b) => a - b)) {
    const group = groups.get(primary)!;
    const due = group.filter((s) => now - s.held!.decidedAt >= holdMs);
    const total = due.reduce((sum, s) => sum + gain(s), 0);
    if (due.length === group.length && fits(primary, total)) {
      for (const state of group) release(load, state);
      continue;
    }
    for (const state of due) {
      if (gain(state) <= STALE_SHARE * load.cap[primary]! && fits(primary, gain(state))) release(load, state);
    }
  }
}
