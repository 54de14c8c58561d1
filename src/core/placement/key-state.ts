/**
 * The planner's working state of one heavy key: its walk and primary, the placement it holds, where
 * its requests went while measured ("before") and where the plan sends them ("after"), and the
 * decision so far. The steps of a plan (release-held.ts, relieve.ts) change it only through
 * `decide` and `release`, which keep the load model in step.
 */
import type { Placement, PlacementTarget } from "./placement.ts";
import { reassign, type PoolLoad, type Share } from "./pool-load.ts";

/** natural: on its ring primary, unplaced; held: keeps its placement; released: back to the ring; new: placed now. */
export type Decision = "natural" | "held" | "released" | "new";

export interface KeyState {
  readonly key: string;
  readonly hash: number;
  readonly rate: number;
  /** Estimated users behind the key; null when unknown. */
  readonly users: number | null;
  /** Every member of the pool in the key's walk order. */
  readonly walk: readonly number[];
  /** The key's ring primary now (−1: nothing eligible). */
  readonly primary: number;
  readonly held: Placement | null;
  /** The held targets still in the pool (removed origins dropped). */
  readonly kept: readonly PlacementTarget[];
  readonly before: Share[];
  after: Share[];
  /** The new placement's targets in their order (the primary first for a split). */
  targets: readonly PlacementTarget[];
  decision: Decision;
}

/** Places the key on `shares` (a whole move or a split, the primary first). */
export function decide(load: PoolLoad, state: KeyState, shares: Share[]): void {
  reassign(load, state.rate, state.after, shares);
  state.after = shares;
  state.targets = shares.map(([m, weight]) => ({ origin: load.ring.ids[m]!, weight }));
  state.decision = "new";
}

/** Sends the key back to its ring primary. */
export function release(load: PoolLoad, state: KeyState): void {
  const to: Share[] = state.primary >= 0 ? [[state.primary, 1]] : [];
  reassign(load, state.rate, state.after, to);
  state.after = to;
  state.targets = [];
  state.decision = "released";
}
