/**
 * A snapshot of the deployment (origins, their administrative state and health, the epoch), the
 * routing table built from it once per snapshot (the ring, origins aligned to its members) and the
 * routing view derived from both at an instant (a weight per origin, cached until it expires), so
 * a request does one hash and one ring walk and nothing else.
 */
import {
  CATCH_ALL_POOL,
  poolOf,
  UNKNOWN_HEALTH,
  type OriginConfig,
  type OriginRecord,
  type Region,
  type Snapshot,
} from "../model.ts";
import { walkRing, type Ring } from "../ring/ring.ts";
import { freshLayout, layoutMatches, ringFromLayout, type SlotLayout } from "../ring/slot-ring.ts";

/** One pool: its slot layout, its ring, and where its ring members are in `table.origins`. */
export interface PoolTable {
  readonly id: string;
  readonly layout: SlotLayout;
  readonly ring: Ring;
  /** members[m] = index into table.origins of ring member m. */
  readonly members: Uint32Array;
  /** True when the pool is the whole table (members[m] === m for every origin): no translation. */
  readonly identity: boolean;
}

/** A snapshot's rings, one per pool, with every origin once in `origins` (sorted by id). */
export interface RoutingTable {
  readonly epoch: number;
  readonly origins: readonly OriginRecord[];
  /** Regional pools sorted by id, then the catch-all pool (if it has origins). */
  readonly pools: readonly PoolTable[];
  readonly poolIndex: ReadonlyMap<string, number>;
  /** The first pool's layout and ring: the whole table when there is one pool. */
  readonly layout: SlotLayout;
  readonly ring: Ring;
  readonly layoutEpoch: number;
  /** The RING_SLOTS_PER_ORIGIN the rings were filled with (a changed setting refills them). */
  readonly slotsPerOrigin: number;
  /** The snapshot's regions (steering reads them) and their ids. */
  readonly regions: readonly Region[];
  readonly regionIds: ReadonlySet<string>;
  readonly defaultRegion: string | null;
}

const NO_REGIONS: ReadonlySet<string> = new Set();

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

/** The snapshot of a bootstrap list before the Durable Object has spoken: epoch 0, all active. */
export function bootstrapSnapshot(
  origins: readonly OriginConfig[],
  regions: readonly Region[] = [],
  defaultRegion: string | null = null,
): Snapshot {
  return {
    epoch: 0,
    origins: origins.map((origin) => ({
      ...origin,
      state: "active" as const,
      drainStartedAt: null,
      health: UNKNOWN_HEALTH,
    })),
    ...(regions.length > 0 ? { regions, defaultRegion } : {}),
  };
}

/**
 * Builds the routing table: one ring per pool (origins grouped by declared region; the rest in the
 * catch-all pool). Every origin keeps its slots whatever its state or health; the routing view
 * only weighs them, so taking an origin out moves exactly its own clients, each to its own ring
 * successor, and bringing it back returns exactly those (DESIGN.md: "skipped during the walk, not
 * removed from the ring positions"). A pool's ring comes from the snapshot's layout when it has one
 * that fits the pool's origins, else from a fresh fill (the bootstrap list).
 */
export function buildRoutingTable(
  snapshot: Snapshot,
  slotsPerOrigin: number,
  previous: RoutingTable | null = null,
): RoutingTable {
  const declared = snapshot.regions ?? [];
  const regions = declared.length === 0 ? NO_REGIONS : new Set(declared.map((region) => region.id));
  const origins = [...snapshot.origins].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const indexOf = new Map(origins.map((origin, i) => [origin.id, i]));
  const grouped = new Map<string, OriginRecord[]>();
  for (const origin of origins) {
    const pool = poolOf(origin.region, regions);
    const list = grouped.get(pool);
    if (list === undefined) grouped.set(pool, [origin]);
    else list.push(origin);
  }
  // Regional pools by id, the catch-all last; a deployment with no origins still has one (empty) pool.
  const ids = [...grouped.keys()].sort((a, b) =>
    a === CATCH_ALL_POOL ? 1 : b === CATCH_ALL_POOL ? -1 : a < b ? -1 : a > b ? 1 : 0,
  );
  if (ids.length === 0) ids.push(CATCH_ALL_POOL);
  const pools = ids.map((id): PoolTable => {
    const members = grouped.get(id) ?? [];
    const before = previous?.pools[previous.poolIndex.get(id) ?? -1];
    const given = snapshot.layouts?.[id] ?? null;
    const layout =
      given !== null && layoutMatches(given, members)
        ? given
        : before !== undefined &&
            before.layout.epoch === 0 &&
            previous!.slotsPerOrigin === slotsPerOrigin &&
            layoutMatches(before.layout, members)
          ? before.layout
          : freshLayout(members, slotsPerOrigin);
    // Most epochs change only health or state: the layout, and so the ring, stays the same object
    // then and is reused instead of rebuilt.
    const ring = before !== undefined && before.layout === layout ? before.ring : ringFromLayout(layout);
    const index = Uint32Array.from(ring.ids, (member) => indexOf.get(member)!);
    // Identity only when the pool is the whole table: then its weights are the table's own array.
    const identity = index.length === origins.length && index.every((i, m) => i === m);
    return { id, layout, ring, members: index, identity };
  });
  const first = pools[0]!;
  return {
    epoch: snapshot.epoch,
    origins,
    pools,
    poolIndex: new Map(pools.map((pool, p) => [pool.id, p])),
    layout: first.layout,
    ring: first.ring,
    layoutEpoch: snapshot.layoutEpoch ?? 0,
    slotsPerOrigin: first.layout.slotsPerMember,
    regions: declared,
    regionIds: regions,
    defaultRegion: snapshot.defaultRegion ?? null,
  };
}

// Walk results of one pool before translation to table indices, one buffer per length.
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
