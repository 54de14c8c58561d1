/**
 * The planner's load model of one pool: where each heavy key's requests go under a set of
 * placements, what every origin carries besides them (its "background": the many light clients,
 * which no placement moves), and each origin's bound.
 *
 * background(o) = measured(o) − Σ over heavy keys of rate × the share the held placements gave o.
 * Measured and key rates come from the same window, so this is the load the ring alone puts on o.
 * The background of an origin that is not eligible now is spread over the eligible ones by weight:
 * its light clients go to their ring successors, which adjacent slots spread that way, and the
 * window may still show them where they were.
 */
import { walkRing, type Ring } from "../ring/ring.ts";
import type { PlacementTarget, PlannerInput } from "./placement.ts";

/** One member of an assignment: a ring member index and the share of the key's requests it takes. */
export type Share = readonly [member: number, weight: number];

/** A pool's members (ring order), their bound and their current load. */
export interface PoolLoad {
  readonly ring: Ring;
  readonly index: ReadonlyMap<string, number>;
  readonly weight: Float64Array;
  readonly eligible: Uint8Array;
  /** Requests per second the ring puts on each member without the heavy keys. */
  readonly background: Float64Array;
  /** Per member: the bound (Infinity when off or not eligible). */
  readonly cap: Float64Array;
  /** Per member: background plus the heavy keys as currently assigned (mutated by the planner). */
  readonly load: Float64Array;
  /** Requests per second of the pool: background plus every heavy key. */
  readonly total: number;
}

/** Every ring member in the key's walk order (the order its requests fall back in). */
export function fullWalk(ring: Ring, hash: number): number[] {
  const out = new Array<number>(ring.ids.length);
  const n = walkRing(ring, hash, new Uint8Array(ring.ids.length).fill(1), out);
  out.length = n;
  return out;
}

/** The first eligible member at or after `member` along the walk (the ring's fallback); −1 if none. */
export function effectiveMember(walk: readonly number[], eligible: Uint8Array, member: number): number {
  const start = walk.indexOf(member);
  if (start < 0) return -1;
  for (let i = 0; i < walk.length; i++) {
    const m = walk[(start + i) % walk.length]!;
    if (eligible[m] === 1) return m;
  }
  return -1;
}

/** The key's ring primary now: the first eligible member of its walk; −1 if none. */
export function primaryMember(walk: readonly number[], eligible: Uint8Array): number {
  for (const m of walk) if (eligible[m] === 1) return m;
  return -1;
}

/**
 * Where a placement's targets send requests now: each target, or its successor along the key's
 * walk while it is not eligible (never re-decided here). Targets no longer in the pool are dropped
 * by the caller first. Shares of the same member are added.
 */
export function resolveShares(
  targets: readonly PlacementTarget[],
  walk: readonly number[],
  load: Pick<PoolLoad, "index" | "eligible">,
): Share[] {
  const shares = new Map<number, number>();
  for (const { origin, weight } of targets) {
    const member = load.index.get(origin);
    if (member === undefined || !(weight > 0)) continue;
    const effective = effectiveMember(walk, load.eligible, member);
    if (effective >= 0) shares.set(effective, (shares.get(effective) ?? 0) + weight);
  }
  return [...shares].sort((a, b) => a[0] - b[0]);
}

/**
 * The load model before any decision: `measured[k]` is where key k's requests went over the window
 * the rates were measured in, `current[k]` where they go now.
 */
export function poolLoad(
  input: PlannerInput,
  keys: readonly { readonly rate: number }[],
  measured: readonly Share[][],
  current: readonly Share[][],
): PoolLoad {
  const { ring } = input;
  const n = ring.ids.length;
  const index = new Map(ring.ids.map((id, m) => [id, m]));
  const weight = new Float64Array(n);
  const eligible = new Uint8Array(n);
  for (const origin of input.origins) {
    const m = index.get(origin.id);
    if (m === undefined) continue;
    weight[m] = origin.weight > 0 && Number.isFinite(origin.weight) ? origin.weight : 0;
    eligible[m] = origin.eligible && weight[m]! > 0 ? 1 : 0;
  }
  const background = new Float64Array(n);
  for (let m = 0; m < n; m++) {
    const rate = input.originRates[ring.ids[m]!] ?? 0;
    background[m] = rate > 0 && Number.isFinite(rate) ? rate : 0;
  }
  keys.forEach((key, k) => {
    for (const [m, w] of measured[k]!) background[m]! -= key.rate * w;
  });
  let stranded = 0;
  let eligibleWeight = 0;
  for (let m = 0; m < n; m++) {
    if (background[m]! < 0) background[m] = 0;
    if (eligible[m] === 1) eligibleWeight += weight[m]!;
    else {
      stranded += background[m]!;
      background[m] = 0;
    }
  }
  let total = 0;
  for (let m = 0; m < n; m++) {
    if (eligible[m] === 1 && eligibleWeight > 0) background[m]! += (stranded * weight[m]!) / eligibleWeight;
    total += background[m]!;
  }
  for (const key of keys) total += key.rate;
  const factor = input.settings.boundFactor;
  const cap = new Float64Array(n).fill(Infinity);
  if (factor > 0 && eligibleWeight > 0) {
    for (let m = 0; m < n; m++) if (eligible[m] === 1) cap[m] = (factor * total * weight[m]!) / eligibleWeight;
  }
  const load = Float64Array.from(background);
  keys.forEach((key, k) => {
    for (const [m, w] of current[k]!) load[m]! += key.rate * w;
  });
  return { ring, index, weight, eligible, background, cap, load, total };
}

/** Moves a key's requests in the model from one assignment to another. */
export function reassign(load: PoolLoad, rate: number, from: readonly Share[], to: readonly Share[]): void {
  for (const [m, w] of from) load.load[m]! -= rate * w;
  for (const [m, w] of to) load.load[m]! += rate * w;
}

/**
 * Where a key's requests went over a window of `windowMs` ending at `now` when it was placed at
 * `decidedAt`: the window holds arrivals by time, so the part before the decision went to the key's
 * primary. Without this an origin a key just left would look as loaded as before for a whole window
 * and the planner would move a second key off it.
 */
export function measuredShares(
  current: readonly Share[],
  primary: number,
  decidedAt: number,
  now: number,
  windowMs: number,
): Share[] {
  const placedFor = windowMs > 0 ? Math.min(1, Math.max(0, (now - decidedAt) / windowMs)) : 1;
  if (placedFor >= 1 || primary < 0) return [...current];
  const mix = new Map<number, number>(current.map(([m, w]) => [m, w * placedFor]));
  mix.set(primary, (mix.get(primary) ?? 0) + (1 - placedFor));
  return [...mix].sort((a, b) => a[0] - b[0]);
}

/** The share of a key's requests that changes origin between two assignments. */
export function movedFraction(from: readonly Share[], to: readonly Share[]): number {
  let kept = 0;
  for (const [m, w] of from) {
    const other = to.find(([n]) => n === m);
    if (other !== undefined) kept += Math.min(w, other[1]);
  }
  return Math.max(0, 1 - kept);
}
