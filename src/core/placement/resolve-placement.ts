/**
 * How an isolate routes a placed key: the placement's target for this user, then, while that
 * target cannot take traffic, the ring's own fallback from the target onward along the key's walk.
 * So a placed user whose origin fails goes to that origin's successor and returns with it, just as
 * an unplaced user does, and nothing is re-decided per request.
 */
import { keyThreshold } from "../ring/ring.ts";
import type { Placement } from "./placement.ts";

/** Placements by key hash (a few per hash at most), built once per snapshot. */
export type PlacementIndex = ReadonlyMap<number, readonly Placement[]>;

/** Indexes placements for lookup on the request path. */
export function indexPlacements(placements: readonly Placement[]): PlacementIndex {
  const index = new Map<number, Placement[]>();
  for (const p of placements) {
    const list = index.get(p.hash >>> 0);
    if (list === undefined) index.set(p.hash >>> 0, [p]);
    else list.push(p);
  }
  return index;
}

/** The placement of a key, or null: the hash first (a Map lookup), the text only on a hit. */
export function findPlacement(index: PlacementIndex, hash: number, key: () => string): Placement | null {
  const list = index.get(hash >>> 0);
  if (list === undefined) return null;
  const text = key();
  return list.find((p) => p.key === text) ?? null;
}

/**
 * Which of a placement's targets serves one user: `userHash` is a hash of the user's affinity
 * cookie id, or null for a user without one, who stays on the first target (a split's primary).
 * One fixed draw per (user, key), so as long as the placement holds a user keeps their target.
 */
export function targetFor(placement: Placement, userHash: number | null): string {
  const { targets } = placement;
  if (targets.length === 1 || userHash === null) return targets[0]!.origin;
  const draw = keyThreshold(userHash >>> 0, placement.hash >>> 0);
  let cumulative = 0;
  for (const target of targets) {
    cumulative += target.weight;
    if (draw < cumulative) return target.origin;
  }
  // Rounding left the weights a hair under 1: the last target with any weight.
  return [...targets].reverse().find((t) => t.weight > 0)?.origin ?? targets[0]!.origin;
}

/**
 * The origins to try for a placed user, in order, at most `count`: the target if it is eligible,
 * then the eligible origins after it along the key's ring walk (`walk`: every origin of the pool
 * in the key's walk order, eligible or not). A target that left the pool starts the walk from its
 * beginning, as if the key had no placement.
 */
export function placedOrder(
  target: string,
  walk: readonly string[],
  eligible: (id: string) => boolean,
  count: number,
): string[] {
  const start = Math.max(0, walk.indexOf(target));
  const out: string[] = [];
  for (let i = 0; i < walk.length && out.length < count; i++) {
    const id = walk[(start + i) % walk.length]!;
    if (eligible(id)) out.push(id);
  }
  return out;
}
