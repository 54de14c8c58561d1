/**
 * The domain model every part shares: an origin as configured and as the Durable Object holds it
 * (administrative state, health), the snapshot isolates route on, regions and pools.
 */
import type { SlotLayout } from "./ring/slot-layout.ts";

/** An origin as configured: stable id, base URL, weight, optional region. */
export interface OriginConfig {
  readonly id: string;
  readonly url: string;
  readonly weight: number;
  readonly region: string | null;
}

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
   * Who owns which slot in each pool, as the Durable Object keeps it (changed by the minimum on
   * every membership change), by pool id. A pool without one (bootstrap, tests): a fresh Maglev
   * fill of its origins.
   */
  readonly layouts?: Readonly<Record<string, SlotLayout>> | null;
  /** The layouts' version (the Durable Object bumps it when any pool's layout changes). */
  readonly layoutEpoch?: number;
  /** The regional pools (README "Regions"), sorted by id; absent or empty: one pool. */
  readonly regions?: readonly Region[];
  /** The home pool of clients that nothing locates (null: the first region by id). */
  readonly defaultRegion?: string | null;
}

/** A region: a pool of origins with a location and, optionally, the places it serves first. */
export interface Region {
  readonly id: string;
  readonly latitude: number;
  readonly longitude: number;
  /** ISO 3166-1 alpha-2 codes (upper case), as in request.cf.country. */
  readonly countries: readonly string[];
  /** Cloudflare continent codes: AF, AN, AS, EU, NA, OC, SA (request.cf.continent). */
  readonly continents: readonly string[];
}

/** The pool of the origins without a declared region: tried after every regional pool. */
export const CATCH_ALL_POOL = "";

/** The pool an origin belongs to: its region when that is a declared region, else the catch-all. */
export function poolOf(region: string | null, regions: ReadonlySet<string>): string {
  return region !== null && regions.has(region) ? region : CATCH_ALL_POOL;
}
