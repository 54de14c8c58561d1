/**
 * A snapshot of the deployment (origins, their administrative state and health, the epoch), the
 * routing table built from it once per snapshot (the ring, origins aligned to its members) and the
 * routing view derived from both at an instant (a weight per origin, cached until it expires), so
 * a request does one hash and one ring walk and nothing else.
 */
import type { OriginConfig } from "./config.ts";
import { walkRing, type Ring } from "./ring.ts";
import { freshLayout, layoutMatches, ringFromLayout, type SlotLayout } from "./slot-ring.ts";

/** Administrative state of an origin. */
export type AdminState = "active" | "draining" | "disabled";

/** Active-probe verdict: "unknown" until the first verdict (eligible until then: see README). */
export type ProbeStatus = "unknown" | "up" | "down";

/** The routing-relevant part of an origin's health, shipped in every snapshot. */
export interface HealthView {
  readonly status: ProbeStatus;
  /** Ejected by passive health until this time (ms since the Unix epoch), or null. */
  readonly ejectedUntil: number | null;
  /** When the origin last came back (probe verdict up, ejection ended early, re-activated): slow start runs from here. */
  readonly recoveredAt: number | null;
}

/** The view of an origin nobody has probed or reported on yet. */
export const UNKNOWN_HEALTH: HealthView = { status: "unknown", ejectedUntil: null, recoveredAt: null };

/** An origin with its administrative state and health. */
export interface OriginRecord extends OriginConfig {
  readonly state: AdminState;
  /** When the origin was set to draining (the drain ramp runs from here), or null. */
  readonly drainStartedAt: number | null;
  readonly health: HealthView;
}

/** What the Durable Object hands to every isolate: the routing-relevant truth at one epoch. */
export interface Snapshot {
  readonly epoch: number;
  readonly origins: readonly OriginRecord[];
  /**
   * Who owns which slot, as the Durable Object keeps it (changed by the minimum on every membership
   * change). Absent (bootstrap, tests): a fresh Maglev fill of the origins.
   */
  readonly layout?: SlotLayout | null;
}

/** A snapshot's ring, with origins aligned to the ring's member indices. */
export interface RoutingTable {
  readonly epoch: number;
  /** The slot layout the ring was built from. */
  readonly layout: SlotLayout;
  readonly ring: Ring;
  readonly origins: readonly OriginRecord[];
  /** The RING_SLOTS_PER_ORIGIN the ring was filled with (a changed setting refills it). */
  readonly slotsPerOrigin: number;
}

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
  return { weights, eligibleCount, panic, validUntil };
}

/** The snapshot of a bootstrap list before the Durable Object has spoken: epoch 0, all active. */
export function bootstrapSnapshot(origins: readonly OriginConfig[]): Snapshot {
  return {
    epoch: 0,
    origins: origins.map((origin) => ({
      ...origin,
      state: "active" as const,
      drainStartedAt: null,
      health: UNKNOWN_HEALTH,
    })),
  };
}

/**
 * Builds the routing table. Every origin keeps its slots whatever its state or health; the
 * routing view only weighs them, so taking an origin out moves exactly its own clients, each to
 * its own ring successor, and bringing it back returns exactly those (DESIGN.md: "skipped during
 * the walk, not removed from the ring positions"). The ring comes from the snapshot's layout when
 * it has one that fits its origins, else from a fresh fill (the bootstrap list).
 */
export function buildRoutingTable(
  snapshot: Snapshot,
  slotsPerOrigin: number,
  previous: RoutingTable | null = null,
): RoutingTable {
  const byId = new Map(snapshot.origins.map((origin) => [origin.id, origin]));
  const given = snapshot.layout ?? null;
  const layout =
    given !== null && layoutMatches(given, snapshot.origins)
      ? given
      : previous !== null &&
          previous.layout.epoch === 0 &&
          previous.slotsPerOrigin === slotsPerOrigin &&
          layoutMatches(previous.layout, snapshot.origins)
        ? previous.layout
        : freshLayout(snapshot.origins, slotsPerOrigin);
  // Most epochs change only health or state: the layout, and so the ring, stays the same object
  // then and is reused instead of rebuilt.
  const ring = previous !== null && previous.layout === layout ? previous.ring : ringFromLayout(layout);
  const origins = ring.ids.map((id) => byId.get(id)!);
  return { epoch: snapshot.epoch, layout, ring, origins, slotsPerOrigin: layout.slotsPerMember };
}

/**
 * Writes into `out` the indices (into `table.origins`) of the origins that take a key hash under
 * `view` (computed from this table): the primary first, then its ring successors, all distinct.
 * Returns how many were written.
 */
export function pickOrigins(
  table: RoutingTable,
  view: RoutingView,
  keyHash: number,
  out: Uint32Array | number[],
): number {
  if (view.eligibleCount === 0) return 0;
  return walkRing(table.ring, keyHash, view.weights, out);
}
