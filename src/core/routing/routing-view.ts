/**
 * The routing view: each origin's weight at an instant from its health, slow start, drain and
 * panic mode, and until when it holds, so the worker computes it only when it can change.
 */
import type { OriginRecord } from "../model.ts";
import type { RoutingTable } from "./routing-table.ts";

/** How health turns into traffic over time (README "Health" documents the defaults). */
export interface RoutingPolicy {
  /** 0 = off: a recovered origin takes all its clients back at once. */
  readonly slowStartMs: number;
  /** 0 = a draining origin loses all its clients at once. */
  readonly drainMs: number;
  /** 0–100: below this share of eligible active origins, route over all active ones. */
  readonly panicPercent: number;
}

/** Per-origin weights at one instant, and when they must be recomputed. */
export interface RoutingView {
  /** Aligned with table.origins: 1 takes all of the origin's clients, 0 none, a fraction that share. */
  readonly weights: Float64Array;
  /** The same weights per pool, aligned with each pool's ring members (the very array when identity). */
  readonly poolWeights: readonly Float64Array[];
  /** Origins with weight > 0, per pool. */
  readonly poolEligible: Int32Array;
  /** Origins with weight > 0. */
  readonly eligibleCount: number;
  readonly panic: boolean;
  /** Recompute at or after this time (Infinity if nothing is time-dependent). */
  readonly validUntil: number;
}

/**
 * How often a ramp is re-sampled: the worker caches the view until validUntil, so a ramp advances
 * in steps of at most this many milliseconds per isolate.
 */
export const RAMP_STEP_MS = 250;

/** The share of its own clients an origin takes at `now`, in [0, 1] (README "Health"). */
export function originWeight(origin: OriginRecord, policy: RoutingPolicy, now: number): number {
  if (origin.state === "disabled") return 0;
  const { status, ejectedUntil, recoveredAt } = origin.health;
  // "unknown" counts as up: at bootstrap nothing has been probed yet, and refusing all traffic
  // until the first probe would be worse than trusting the configuration.
  if (status === "down") return 0;
  if (ejectedUntil !== null && now < ejectedUntil) return 0;

  // Slow start runs from the later of the recovery and the end of the last ejection. At its very
  // start the ramp is 0: nobody is back yet, the first clients return just after.
  let ramp = 1;
  const start = Math.max(recoveredAt ?? -Infinity, ejectedUntil ?? -Infinity);
  if (Number.isFinite(start) && policy.slowStartMs > 0 && now < start + policy.slowStartMs) {
    ramp = Math.max(0, (now - start) / policy.slowStartMs);
  }

  let drainLeft = 1;
  if (origin.state === "draining") {
    const since = origin.drainStartedAt;
    drainLeft = since === null ? 0 : policy.drainMs > 0 ? Math.max(0, 1 - (now - since) / policy.drainMs) : 0;
  }

  const weight = ramp * drainLeft;
  return weight > 1 ? 1 : weight > 0 ? weight : 0;
}

// When `origin`'s weight may next change after `now` on its own (Infinity if it is constant until
// the snapshot changes). Erring early only costs a recomputation; erring late would stall a ramp.
function nextChange(origin: OriginRecord, policy: RoutingPolicy, now: number): number {
  if (origin.state === "disabled" || origin.health.status === "down") return Infinity;
  let drainEnd = Infinity;
  if (origin.state === "draining") {
    if (origin.drainStartedAt === null || !(policy.drainMs > 0)) return Infinity;
    drainEnd = origin.drainStartedAt + policy.drainMs;
    if (now >= drainEnd) return Infinity;
  }
  const { ejectedUntil, recoveredAt } = origin.health;
  // Ejected: the weight is 0 until the ejection ends, then the slow start (if any) begins.
  if (ejectedUntil !== null && now < ejectedUntil) return ejectedUntil < drainEnd ? ejectedUntil : Infinity;
  let next = drainEnd;
  const start = Math.max(recoveredAt ?? -Infinity, ejectedUntil ?? -Infinity);
  if (Number.isFinite(start) && policy.slowStartMs > 0 && now < start + policy.slowStartMs) {
    next = Math.min(next, start + policy.slowStartMs);
  }
  // A ramp or a drain in progress is re-sampled every RAMP_STEP_MS.
  return next === Infinity ? Infinity : Math.min(next, now + RAMP_STEP_MS);
}

/**
 * The routing view at `now`: every origin's weight, with Envoy's panic threshold on top (when
 * fewer than panicPercent % of the active origins can take traffic, the health data is more likely
 * wrong than the origins, so every active origin takes its full share again). Draining and
 * disabled origins keep their own weight in panic: an operator's decision is not health data.
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/panic_threshold
 */
export function routingView(table: RoutingTable, policy: RoutingPolicy, now: number): RoutingView {
  const { origins } = table;
  const weights = new Float64Array(origins.length);
  let active = 0;
  let healthy = 0;
  let validUntil = Infinity;
  for (let i = 0; i < origins.length; i++) {
    const origin = origins[i]!;
    const weight = originWeight(origin, policy, now);
    weights[i] = weight;
    if (origin.state === "active") {
      active++;
      if (weight > 0) healthy++;
    }
    // Computed from the health-based weights even in panic: panic ends when they recover.
    validUntil = Math.min(validUntil, nextChange(origin, policy, now));
  }
  const panic = active > 0 && (healthy / active) * 100 < policy.panicPercent;
  let eligibleCount = 0;
  for (let i = 0; i < origins.length; i++) {
    if (panic && origins[i]!.state === "active") weights[i] = 1;
    if (weights[i]! > 0) eligibleCount++;
  }
  const poolEligible = new Int32Array(table.pools.length);
  const poolWeights = table.pools.map((pool, p) => {
    const own = pool.identity ? weights : Float64Array.from(pool.members, (i) => weights[i]!);
    for (let m = 0; m < own.length; m++) if (own[m]! > 0) poolEligible[p]!++;
    return own;
  });
  return { weights, poolWeights, poolEligible, eligibleCount, panic, validUntil };
}
