/**
 * What isolates may call the ring Durable Object for, and what it answers: the RPC types and the
 * object's name. Types and constants only (Node-side tests and scripts import it).
 */
import type { Preview } from "../core/admin/admin.ts";
import type { HealthRecord } from "../core/health/health.ts";
import type { AdminState, OriginRecord, Region, Snapshot } from "../core/model.ts";
import type { FieldError } from "../core/result.ts";
import type { SlotLayout } from "../core/ring/slot-layout.ts";
import type { Placement, PlanLoads } from "../core/placement/placement.ts";
import type { TrafficView } from "../core/traffic/traffic-window.ts";

/** The one ring Durable Object every isolate talks to. */
export const RING_OBJECT_NAME = "ring";

/** A snapshot plus what the object knows about its bootstrap list. */
export interface StoreSnapshot extends Snapshot {
  /** Every pool's slot layout, by pool id (the catch-all pool is ""). */
  readonly layouts: Readonly<Record<string, SlotLayout>>;
  readonly layoutEpoch: number;
  /** The regional pools as the object holds them (seeded from REGIONS, changed by the admin API). */
  readonly regions: readonly Region[];
  readonly defaultRegion: string | null;
  /** Why the current ORIGINS variable was not applied, if it was not. */
  readonly bootstrapErrors: readonly FieldError[];
  /** The load-aware placements in force (README "Load-aware placement"), sorted by key hash. */
  readonly placements: readonly Placement[];
}

/**
 * A refresh answer: the full origin list, or null in place of it when the caller already holds
 * this epoch (the steady state: a few bytes instead of the whole list, ~100 KB at 1,000 origins).
 */
export interface SnapshotUpdate {
  readonly epoch: number;
  readonly origins: readonly OriginRecord[] | null;
  /** The layouts' version; the layouts themselves (~2 bytes per slot) only when the caller lacks it. */
  readonly layoutEpoch: number;
  readonly layouts: Readonly<Record<string, SlotLayout>> | null;
  /** The regions, with the origin list (null when it is null): they change with the epoch. */
  readonly regions: readonly Region[] | null;
  readonly defaultRegion: string | null;
  readonly bootstrapErrors: readonly FieldError[];
  /** The placements, with the origin list (null when it is null): a change bumps the epoch. */
  readonly placements?: readonly Placement[] | null;
}

/** What a report answers: the epoch after the merge, and the update when the reporter's epoch is stale. */
export interface ReportAnswer {
  readonly epoch: number;
  readonly update: SnapshotUpdate | null;
}

/** The result of a state change. */
export type StateChange =
  | { readonly ok: true; readonly epoch: number }
  | { readonly ok: false; readonly status: 400 | 404; readonly error: string };

/** Options of an admin change. */
export interface ChangeOptions {
  /** Compare-and-set: refuse (409) unless the epoch is still this one. */
  readonly ifMatch?: number | null;
  /** Compute the preview and change nothing. */
  readonly dryRun?: boolean;
  /** Who asked, for the audit log (never the token). */
  readonly actor?: string;
}

/** The result of an admin change: the preview either way, or why it was refused (nothing changed). */
export type ChangeResult =
  | {
      readonly ok: true;
      readonly dryRun: boolean;
      /** The epoch after the change (unchanged for a dry run or a no-op). */
      readonly epoch: number;
      readonly changed: boolean;
      readonly preview: Preview;
    }
  | { readonly ok: false; readonly status: 404 | 409; readonly field: string; readonly error: string };

/** An origin as the admin API lists it. */
export interface AdminOrigin extends OriginRecord {
  /** Share of the key space it owns in the slot layout (its clients when every origin is up). */
  readonly share: number;
  readonly healthDetail: HealthRecord;
}

/** Every origin with its state, health and share of the key space, at one epoch (listOrigins). */
export interface OriginList {
  readonly epoch: number;
  readonly layoutEpoch: number;
  readonly origins: AdminOrigin[];
}

/** One audit log entry. */
export interface AuditEntry {
  readonly seq: number;
  readonly at: number;
  /** The epoch the change produced. */
  readonly epoch: number;
  readonly action: string;
  readonly detail: unknown;
  readonly actor: string | null;
}

/** Audit entries kept (older ones are deleted as new ones come). */
export const AUDIT_KEEP = 1_000;

/** What a probe round did. */
export interface RoundResult {
  readonly ran: boolean;
  /**
   * Why it did not run: another round in flight, one ran less than half an interval ago, or (a
   * fast round) every origin is settled up.
   */
  readonly skipped?: "in-flight" | "too-soon" | "misconfigured" | "all-settled";
  readonly probed: number;
  /** Results dropped because their origin was removed or changed while it was probed. */
  readonly dropped: number;
  readonly epoch: number;
}

/** One entry of an isolate's traffic report. */
export interface ReportEntry {
  readonly id: string;
  readonly successes: number;
  readonly failures: number;
  readonly trailingFailures: number;
  /** Hashes of the client addresses behind the trailing failures (at most MAX_REPORT_CLIENTS). */
  readonly clients: readonly number[];
}

/** Everything the status page shows about one origin's health. */
export interface OriginHealthDetail {
  readonly id: string;
  readonly state: AdminState;
  readonly drainStartedAt: number | null;
  readonly health: HealthRecord;
}

/** Every origin's full health record and when the last full probe round started (getHealth). */
export interface StoreHealth {
  readonly epoch: number;
  readonly lastRoundAt: number | null;
  readonly origins: OriginHealthDetail[];
}

/** The edge-wide traffic view and the last plan of each pool (getTraffic), for the status views. */
export interface TrafficStatus {
  readonly view: TrafficView;
  readonly placements: readonly Placement[];
  /** When the object last planned (null: not since it started), and the loads of that plan per pool id. */
  readonly plannedAt: number | null;
  readonly pools: Readonly<Record<string, PlanLoads & { readonly withinBound: boolean; readonly movedShare: number }>>;
  readonly boundFactor: number;
}

/** A manual pin (`{ op: "pin", key, origin }`) or release (`{ op: "release", key }`) of a placement. */
export type PlacementChange =
  | { readonly op: "pin"; readonly key: string; readonly hash: number; readonly origin: string }
  | { readonly op: "release"; readonly key: string };

/** What a placement change did or, in a dry run, would do. */
export type PlacementChangeResult =
  | {
      readonly ok: true;
      readonly dryRun: boolean;
      readonly epoch: number;
      readonly changed: boolean;
      readonly before: Placement | null;
      readonly after: Placement | null;
    }
  | { readonly ok: false; readonly status: 404 | 409; readonly field: string; readonly error: string };

/** Calls served since the object started, by method (callCounts). */
export interface CallCounts {
  readonly getUpdate: number;
  readonly report: number;
  readonly probeRound: number;
}
