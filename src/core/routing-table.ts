/**
 * A snapshot of the deployment (origins, their administrative state, the epoch) and the routing
 * table built from it once per snapshot: the ring plus a per-member eligibility array, so a
 * request does one hash and one ring walk and nothing else.
 */
import type { OriginConfig } from "./config.ts";
import { buildRing, walkRing, type Ring } from "./ring.ts";

/** Administrative state of an origin. */
export type AdminState = "active" | "draining" | "disabled";

/** An origin with its administrative state. */
export interface OriginRecord extends OriginConfig {
  readonly state: AdminState;
}

/** What the Durable Object hands to every isolate: the routing-relevant truth at one epoch. */
export interface Snapshot {
  readonly epoch: number;
  readonly origins: readonly OriginRecord[];
}

/** A snapshot's ring, with origins and eligibility aligned to the ring's member indices. */
export interface RoutingTable {
  readonly epoch: number;
  readonly ring: Ring;
  readonly origins: readonly OriginRecord[];
  readonly eligible: Uint8Array;
  readonly eligibleCount: number;
}

/** The snapshot of a bootstrap list before the Durable Object has spoken: epoch 0, all active. */
export function bootstrapSnapshot(origins: readonly OriginConfig[]): Snapshot {
  return {
    epoch: 0,
    origins: origins.map((origin) => ({ ...origin, state: "active" as const })),
  };
}

/**
 * Builds the routing table. Every origin keeps its ring points whatever its state; only active
 * ones are eligible, so disabling or draining an origin moves exactly its own clients, each to
 * its own ring successor, and re-enabling brings exactly those back (DESIGN.md: "skipped during
 * the walk, not removed from the ring positions").
 */
export function buildRoutingTable(snapshot: Snapshot, vnodesPerWeight: number): RoutingTable {
  const ring = buildRing(snapshot.origins, vnodesPerWeight);
  const byId = new Map(snapshot.origins.map((origin) => [origin.id, origin]));
  const origins = ring.ids.map((id) => byId.get(id)!);
  const eligible = new Uint8Array(origins.length);
  let eligibleCount = 0;
  origins.forEach((origin, index) => {
    if (origin.state === "active") {
      eligible[index] = 1;
      eligibleCount++;
    }
  });
  return { epoch: snapshot.epoch, ring, origins, eligible, eligibleCount };
}

/**
 * Writes into `out` the indices (into `table.origins`) of the eligible origins for a key hash:
 * the primary first, then its ring successors, all distinct. Returns how many were written.
 */
export function pickOrigins(table: RoutingTable, keyHash: number, out: Uint32Array | number[]): number {
  if (table.eligibleCount === 0) return 0;
  return walkRing(table.ring, keyHash, table.eligible, out);
}
