/**
 * Workloads for the planner tests: users with fixed request rates on a pool's ring, the edge-wide
 * view they produce under a set of placements (per-origin rates and the top keys, as the traffic
 * window would show them), and the load each origin really carries with users counted one by one.
 */
import { xxh32String } from "../../../src/core/hash.ts";
import type { KeyLoad, Placement, PlannerInput, PoolOrigin } from "../../../src/core/placement/placement.ts";
import { findPlacement, indexPlacements, targetFor } from "../../../src/core/placement/resolve-placement.ts";
import { walkRing, type Ring } from "../../../src/core/ring/ring.ts";
import { buildSlotRing } from "../../../src/core/ring/slot-layout.ts";

/** A client key with its requests per second and, behind a NAT, its users' cookie hashes. */
export interface Client {
  readonly key: string;
  readonly hash: number;
  readonly rate: number;
  /** Users behind the key (each with a cookie id hash); empty for a single user. */
  readonly users: readonly number[];
}

export interface Pool {
  readonly ring: Ring;
  readonly origins: readonly PoolOrigin[];
}

export function pool(count: number, weight: (i: number) => number = () => 1, down: readonly number[] = []): Pool {
  const members = Array.from({ length: count }, (_, i) => ({ id: `o${i}`, weight: weight(i) }));
  return {
    ring: buildSlotRing(members),
    origins: members.map((m, i) => ({ ...m, eligible: !down.includes(i) })),
  };
}

export function client(key: string, rate: number, users = 0): Client {
  return {
    key,
    hash: xxh32String(key),
    rate,
    users: Array.from({ length: users }, (_, u) => xxh32String(`${key}#user${u}`)),
  };
}

/** The workload: `ordinary` Zipf users (exponent s) carrying the rest, plus NAT keys at the given shares. */
export function skewed(total: number, ordinary: number, natShares: readonly number[], s = 1, behind = 150): Client[] {
  const natTotal = natShares.reduce((a, b) => a + b, 0);
  const weights = Array.from({ length: ordinary }, (_, i) => 1 / (i + 1) ** s);
  const sum = weights.reduce((a, b) => a + b, 0);
  const users = weights.map((w, i) => client(`user-${i}`, (total * (1 - natTotal) * w) / sum));
  const nats = natShares.map((share, j) => client(`nat-${j}`, total * share, behind));
  return [...users, ...nats];
}

/** Origin index (into pool.origins, which are o0..on) a user of `c` lands on, under `placements`. */
function originOf(p: Pool, c: Client, user: number | null, index: ReturnType<typeof indexPlacements>): string | null {
  const eligible = Uint8Array.from(p.ring.ids, (id) => (p.origins.find((o) => o.id === id)!.eligible ? 1 : 0));
  const placement = findPlacement(index, c.hash, () => c.key);
  const out = new Array<number>(p.ring.ids.length);
  const n = walkRing(p.ring, c.hash, new Uint8Array(p.ring.ids.length).fill(1), out);
  const walk = out.slice(0, n).map((m) => p.ring.ids[m]!);
  const start = placement === null ? 0 : Math.max(0, walk.indexOf(targetFor(placement, user)));
  for (let i = 0; i < walk.length; i++) {
    const id = walk[(start + i) % walk.length]!;
    if (eligible[p.ring.ids.indexOf(id)] === 1) return id;
  }
  return null;
}

/** Where every user (a NAT key's users one by one) goes: [user id, origin, rate]. */
export function assignment(
  p: Pool,
  clients: readonly Client[],
  placements: readonly Placement[],
): Map<string, [string, number]> {
  const index = indexPlacements(placements);
  const result = new Map<string, [string, number]>();
  for (const c of clients) {
    if (c.users.length === 0) result.set(c.key, [originOf(p, c, null, index)!, c.rate]);
    else c.users.forEach((u, i) => result.set(`${c.key}#${i}`, [originOf(p, c, u, index)!, c.rate / c.users.length]));
  }
  return result;
}

/** Requests per second per origin id from an assignment. */
export function loads(p: Pool, assigned: Map<string, [string, number]>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(p.origins.filter((o) => o.eligible).map((o) => [o.id, 0]));
  for (const [origin, rate] of assigned.values()) out[origin] = (out[origin] ?? 0) + rate;
  return out;
}

/** Peak over mean per unit weight of the eligible origins. */
export function peakOverMean(p: Pool, perOrigin: Record<string, number>): number {
  const eligible = p.origins.filter((o) => o.eligible);
  const total = eligible.reduce((s, o) => s + (perOrigin[o.id] ?? 0), 0);
  const weight = eligible.reduce((s, o) => s + o.weight, 0);
  return Math.max(...eligible.map((o) => (perOrigin[o.id] ?? 0) / o.weight)) / (total / weight);
}

/**
 * The planner input the view of `clients` under `held` gives: exact origin rates, the top `hot` keys.
 * An instant view (as if the window held only traffic under `held`), so the planner is told so
 * (measuredMs 0); test/core/placement/pipeline.test.ts runs the real window.
 */
export function inputFor(
  p: Pool,
  clients: readonly Client[],
  held: readonly Placement[],
  now: number,
  hot = 64,
  boundFactor = 1.25,
  holdMs = 60_000,
): PlannerInput {
  const keys: KeyLoad[] = [...clients]
    .sort((a, b) => b.rate - a.rate || a.hash - b.hash)
    .slice(0, hot)
    .map(({ key, hash, rate, users }) => ({ key, hash, rate, users: Math.max(1, users.length) }));
  return {
    now,
    ring: p.ring,
    origins: p.origins,
    originRates: loads(p, assignment(p, clients, held)),
    keys,
    held,
    measuredMs: 0,
    settings: { boundFactor, holdMs },
  };
}
