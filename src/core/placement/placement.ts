/**
 * Load-aware placements: the data the planner (plan-placements.ts) decides, the Durable Object
 * ships in the snapshot and every isolate routes by (resolve-placement.ts). A placement overrides
 * the ring for one hot client key only; every other key keeps its ring primary, so nobody outside
 * the placed keys ever moves.
 */
import type { Ring } from "../ring/ring.ts";

/** One origin of a placement and the share of the key's users it takes (a split's shares sum to 1). */
export interface PlacementTarget {
  readonly origin: string;
  readonly weight: number;
}

/**
 * A key placed off its ring primary. One target: the whole key moved there. Several: a split along
 * the key's ring walk, the key's primary first (users without the affinity cookie stay there).
 */
export interface Placement {
  /** The key as text ("203.0.113.7/32"): what the status page and the admin API show. */
  readonly key: string;
  /** xxh32 of the key bytes: the isolates match placements by it, then by text. */
  readonly hash: number;
  readonly targets: readonly PlacementTarget[];
  /** When it was decided (ms since the Unix epoch); kept unchanged while it is held. */
  readonly decidedAt: number;
  /** The key's rate (requests/s) when it was decided, for the status page. */
  readonly rate: number;
  /** Pinned by an operator: the planner keeps it as is and never releases it. */
  readonly manual: boolean;
}

/** An origin of the pool as the planner sees it. */
export interface PoolOrigin {
  readonly id: string;
  readonly weight: number;
  /** Takes traffic now (the routing view's weight > 0): only eligible origins receive placements. */
  readonly eligible: boolean;
}

/** A hot key with its edge-wide rate (traffic-window.ts KeyRate fits). */
export interface KeyLoad {
  readonly key: string;
  readonly hash: number;
  /** Requests per second (the guaranteed rate: never more than the key sent). */
  readonly rate: number;
  /** Estimated distinct users behind the key (traffic-window.ts KeyRate.users); absent: unknown. */
  readonly users?: number;
}

/** What the planner needs to know, all of it plain data. */
export interface PlannerInput {
  readonly now: number;
  /** The pool's ring (ring.ids are its origin ids) and its origins. */
  readonly ring: Ring;
  readonly origins: readonly PoolOrigin[];
  /** Measured requests per second per origin id, over the same window as `keys`. */
  readonly originRates: Readonly<Record<string, number>>;
  /** The heavy keys of this pool. Any order; a key listed twice counts once (the larger rate). */
  readonly keys: readonly KeyLoad[];
  /** The placements in force (shipped in the snapshot the rates were measured under). */
  readonly held: readonly Placement[];
  /** Upper bound on the rate of a held key that is no longer listed (traffic-window.ts keyFloorRate). */
  readonly keyFloorRate?: number;
  /**
   * The span the rates average, ending at `now` (traffic-window.ts coveredMs; default holdMs): a
   * placement younger than this is counted as partly still on its key's primary in the rates.
   */
  readonly measuredMs?: number;
  readonly settings: PlannerSettings;
}

/** The planner's tunables. */
export interface PlannerSettings {
  /** LOAD_BOUND_FACTOR: every origin's load stays under factor × the pool's mean per unit weight; 0 = off. */
  readonly boundFactor: number;
  /** A placement is never released sooner than this after it was decided (default: the traffic window). */
  readonly holdMs: number;

  /** Origins a split may use at most, the primary included. */
  readonly maxSplit?: number;
  /** Release only below (1 − releaseMargin) × the bound (default RELEASE_MARGIN). */
  readonly releaseMargin?: number;
}

/**
 * A held placement is released only when its key's own primary would stay below 80 % of the bound
 * with the key back on it: a margin much wider than the noise of a one-minute rate (a few percent),
 * so a key that was moved because its origin crossed the bound is not moved back while the load is
 * about the same, and so a user changes origin at most once per imbalance.
 */
export const RELEASE_MARGIN = 0.2;

/**
 * Relief plans to (1 − PLAN_HEADROOM) × the bound, not to the bound itself: the origin relieved is
 * brought down to it, a key moved lands only where its new origin stays under it, and a split fills
 * its targets to it (or to SPLIT_HEADROOM's mark, if that were wider). An origin is still judged
 * over only above the bound, so nothing moves while every origin is under it. Why: the delivered
 * load is not the planned one. The first plan reads a view a third of a window long, a key's rate
 * is the view's guaranteed (lower) rate, and a cookie pins users, not requests: behind a NAT with
 * Zipf-weighted users, the share a target gets strays from its weight by about 0.1 × √(w(1 − w))
 * of the key (12 % of requests split 3 ways: ±0.5 % of all requests, 4 % of the bound, per target).
 * With splits aimed 5 % under the bound (SPLIT_HEADROOM alone), `npm run bench:skew` delivered
 * 1.238, 1.265 and 1.280 × the mean in three runs; 10 % covers two of those deviations. It stays inside RELEASE_MARGIN, so a key relieved to it is
 * released only once its origin has fallen a further 10 % of the bound (no flapping). When no relief
 * reaches the headroom, the planner takes one that reaches the bound (relieve.ts).
 */
export const PLAN_HEADROOM = 0.1;

/**
 * A key is split by cookie only when it has at least this many users (a cookie pins each user to one
 * target, so one user cannot be spread), or when it is too big for any one origin's bound alone.
 */
export const MIN_SPLIT_USERS = 4;

/** Origins a split uses at most by default: enough for a 12 % address over a pool of 10 at 1.25. */
export const MAX_SPLIT = 8;

/** Load per origin id before and after the plan, with the bound. */
export interface PlanLoads {
  /** Requests per second per origin id (eligible origins only), under the held placements. */
  readonly before: Readonly<Record<string, number>>;
  /** The same under the new placements. */
  readonly after: Readonly<Record<string, number>>;
  /** The bound per origin id (factor × mean × weight); Infinity when the bound is off. */
  readonly bound: Readonly<Record<string, number>>;
}

/** The planner's answer. */
export interface PlacementPlan {
  readonly decidedAt: number;
  /** Sorted by key hash, then key: the same view gives byte-identical plans. */
  readonly placements: readonly Placement[];
  /** Keys whose placement changed (new, changed or released), sorted like `placements`. */
  readonly changed: readonly string[];
  /** Requests per second whose origin changes with this plan, and their share of the pool's. */
  readonly movedRate: number;
  readonly movedShare: number;
  readonly loads: PlanLoads;
  /** True when every eligible origin ends at or under its bound. */
  readonly withinBound: boolean;
}

/** The order placements and keys are kept in everywhere (the plan, the stored rows): by ring hash, then key text. */
export const byHashThenKey = (a: { hash: number; key: string }, b: { hash: number; key: string }): number =>
  a.hash - b.hash || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
