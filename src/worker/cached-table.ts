/**
 * The isolate's routing table (`CachedTable`) and how one is made from what the isolate receives: the Durable Object's update (rings rebuilt only for
 * the pools whose layout changed, reused when only health or state changed), or the bootstrap
 * list from ORIGINS when the object cannot be reached.
 */
import { parseOrigins } from "../core/config/origins.ts";
import type { Settings } from "../core/config/settings.ts";
import type { Snapshot } from "../core/model.ts";
import type { FieldError } from "../core/result.ts";
import { indexPlacements, type PlacementIndex } from "../core/placement/resolve-placement.ts";
import { bootstrapSnapshot, buildRoutingTable, type RoutingTable } from "../core/routing/routing-table.ts";
import type { SnapshotUpdate } from "../ring-store/protocol.ts";
import type { Env } from "./env.ts";
import { emitLog } from "./emit-log.ts";

/** Where the table in use came from. */
export type TableSource = "durable-object" | "bootstrap";

/** The table in use and what the status route reports about it. */
export interface CachedTable {
  readonly table: RoutingTable;
  readonly source: TableSource;
  /** When the snapshot behind the table was received (ms since the epoch). */
  readonly receivedAt: number;
  /** ORIGINS errors reported by the Durable Object or found in the bootstrap list. */
  readonly bootstrapErrors: readonly FieldError[];
  /** The snapshot's load-aware placements, indexed once per table (empty: the ring decides alone). */
  readonly placements: PlacementIndex;
}

/** No placements: what the bootstrap list and a snapshot without any route by. */
export const NO_PLACEMENTS: PlacementIndex = new Map();

/** The placements to route `update` by: its own when it carries the origin list, else those held. */
export function placementsFromUpdate(update: SnapshotUpdate, previous: CachedTable | null): PlacementIndex {
  if (update.origins === null) return previous?.placements ?? NO_PLACEMENTS;
  const placements = update.placements ?? [];
  return placements.length === 0 ? NO_PLACEMENTS : indexPlacements(placements);
}

/** The table for `update`; throws when the update is relative to a table (or layouts) `previous` is not. */
export function tableFromUpdate(
  update: SnapshotUpdate,
  settings: Settings,
  previous: CachedTable | null,
): RoutingTable {
  let table: RoutingTable;
  const held = previous?.source === "durable-object" ? previous.table : null;
  if (update.origins !== null) {
    // The layouts come only when they changed: most epochs change health or state, and then the
    // layouts held (and the rings built from them) are reused.
    const layouts =
      update.layouts ??
      (held !== null && held.layoutEpoch === update.layoutEpoch
        ? Object.fromEntries(held.pools.map((pool) => [pool.id, pool.layout]))
        : null);
    if (layouts === null)
      throw new Error(`Durable Object sent no layouts ${update.layoutEpoch}, which this isolate lacks`);
    table = buildRoutingTable(
      {
        epoch: update.epoch,
        origins: update.origins,
        layouts,
        layoutEpoch: update.layoutEpoch,
        regions: update.regions ?? [],
        defaultRegion: update.defaultRegion,
      },
      settings.ringSlotsPerOrigin,
      previous?.table ?? null,
    );
    const misfit = table.pools.filter((pool) => pool.layout !== layouts[pool.id]).map((pool) => pool.id);
    if (misfit.length > 0)
      emitLog({
        event: "snapshot.layout_mismatch",
        level: "error",
        layoutEpoch: update.layoutEpoch,
        epoch: update.epoch,
        pools: misfit,
      });
  } else if (previous?.source === "durable-object" && previous.table.epoch === update.epoch) {
    // Unchanged epoch: the ring is not rebuilt, only the age renewed.
    table = previous.table;
  } else {
    throw new Error(`Durable Object sent no origins for epoch ${update.epoch}, which this isolate lacks`);
  }
  return table;
}

/** The table of the bootstrap list (ORIGINS), or null when it is unusable (logged). */
export function bootstrapTable(env: Env, settings: Settings, now: number): CachedTable | null {
  const parsed = parseOrigins(env.ORIGINS);
  if (!parsed.ok) {
    emitLog({ event: "misconfigured", level: "error", scope: "ORIGINS", applied: false, errors: parsed.errors }, env);
    return null;
  }
  const snapshot: Snapshot = bootstrapSnapshot(parsed.value, settings.regions, settings.defaultRegion);
  return {
    table: buildRoutingTable(snapshot, settings.ringSlotsPerOrigin),
    source: "bootstrap",
    receivedAt: now,
    bootstrapErrors: [],
    placements: NO_PLACEMENTS,
  };
}
