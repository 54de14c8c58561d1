/**
 * What the object answers from its tables: the snapshot at one epoch, the refresh answer built
 * from it, the admin API's origin list and the status views' health records.
 */
import type { AdminState } from "../core/model.ts";
import type { FieldError } from "../core/result.ts";
import { INITIAL_HEALTH } from "../core/health/health.ts";
import { layoutShares } from "../core/ring/slot-layout.ts";
import { readLayoutEpoch, readLayouts } from "./layout-rows.ts";
import { readEpoch } from "./meta.ts";
import { readHealth, readOriginRows, toOriginRecord, type OriginRow } from "./origin-rows.ts";
import { readPlacements } from "./placement-rows.ts";
import { readLastRoundAt } from "./probe-rounds.ts";
import type { OriginList, SnapshotUpdate, StoreHealth, StoreSnapshot } from "./protocol.ts";
import { readRegions } from "./region-rows.ts";

/** The stored routing state: a snapshot but for the bootstrap errors (the object's, not stored). */
export type StoredState = Omit<StoreSnapshot, "bootstrapErrors">;

/** The stored state at the current epoch, origins sorted by id. */
export function readStoredState(sql: SqlStorage): StoredState {
  const origins = readOriginRows(sql).map((row) => toOriginRecord(row));
  return {
    epoch: readEpoch(sql),
    origins,
    layouts: readLayouts(sql),
    layoutEpoch: readLayoutEpoch(sql),
    ...readRegions(sql),
    placements: readPlacements(sql),
  };
}

/** The snapshot isolates route on: the stored state and why ORIGINS was not applied, if it was not. */
export function readSnapshot(sql: SqlStorage, bootstrapErrors: readonly FieldError[]): StoreSnapshot {
  return { ...readStoredState(sql), bootstrapErrors };
}

/** `snapshot` as a refresh answers it: without what the caller holds (`knownEpoch`, `knownLayoutEpoch`). */
export function buildUpdate(
  snapshot: StoreSnapshot,
  knownEpoch: number | null,
  knownLayoutEpoch: number | null,
): SnapshotUpdate {
  const { layoutEpoch } = snapshot;
  const known = knownEpoch === snapshot.epoch;
  return {
    epoch: snapshot.epoch,
    origins: known ? null : snapshot.origins,
    layoutEpoch,
    layouts: knownLayoutEpoch === layoutEpoch ? null : snapshot.layouts,
    regions: known ? null : snapshot.regions,
    defaultRegion: snapshot.defaultRegion,
    bootstrapErrors: snapshot.bootstrapErrors,
    placements: known ? null : snapshot.placements,
  };
}

/** Every origin of `snapshot` with its full health record (from `rows`) and exact share of the key space. */
export function listAdminOrigins(snapshot: StoreSnapshot, rows: readonly OriginRow[]): OriginList {
  // Each origin's share is of its own pool's key space (the clients steered to that pool).
  const shares = layoutShares(Object.values(snapshot.layouts));
  const health = new Map(rows.map((row) => [row.id, readHealth(row)]));
  return {
    epoch: snapshot.epoch,
    layoutEpoch: snapshot.layoutEpoch,
    origins: snapshot.origins.map((origin) => ({
      ...origin,
      share: shares.get(origin.id) ?? 0,
      healthDetail: health.get(origin.id) ?? INITIAL_HEALTH,
    })),
  };
}

/** Every origin's full health record and the last full round, for the status views. */
export function readStoreHealth(sql: SqlStorage): StoreHealth {
  const origins = readOriginRows(sql).map((row) => ({
    id: row.id,
    state: row.state as AdminState,
    drainStartedAt: row.drain_started_at,
    health: readHealth(row),
  }));
  return { epoch: readEpoch(sql), lastRoundAt: readLastRoundAt(sql), origins };
}
