/**
 * The `origins` table: each origin's address, administrative state and health record (JSON of
 * core/health.ts HealthRecord). Every read and write of it is here, each written once.
 */
import { AWAITING_PROBES, INITIAL_HEALTH, toView, type HealthRecord } from "../core/health/health.ts";
import type { AdminState, OriginConfig, OriginRecord } from "../core/model.ts";

/** One stored origin, as SQLite returns it. */
export interface OriginRow extends Record<string, SqlStorageValue> {
  id: string;
  url: string;
  weight: number;
  region: string | null;
  state: string;
  drain_started_at: number | null;
  health: string | null;
}

/** Every origin sorted by id, or the one with `id` (none if there is none). */
export function readOriginRows(sql: SqlStorage, id?: string): OriginRow[] {
  return (
    id === undefined
      ? sql.exec<OriginRow>("SELECT * FROM origins ORDER BY id")
      : sql.exec<OriginRow>("SELECT * FROM origins WHERE id = ?", id)
  ).toArray();
}

/** The row's health record (a row from before schema 2 has none yet). */
export function readHealth(row: OriginRow): HealthRecord {
  return row.health === null ? INITIAL_HEALTH : (JSON.parse(row.health) as HealthRecord);
}

/** The row as a snapshot carries it. */
export function toOriginRecord(row: OriginRow): OriginRecord {
  return {
    id: row.id,
    url: row.url,
    weight: row.weight,
    region: row.region,
    state: row.state as AdminState,
    drainStartedAt: row.drain_started_at,
    health: toView(readHealth(row)),
  };
}

/** Adds an origin; by default it waits for its first passing probes (AWAITING_PROBES). */
export function insertOrigin(
  sql: SqlStorage,
  origin: OriginConfig,
  state: AdminState,
  drainStartedAt: number | null,
  health: HealthRecord = AWAITING_PROBES,
): void {
  sql.exec(
    "INSERT INTO origins (id, url, weight, region, state, drain_started_at, health) VALUES (?, ?, ?, ?, ?, ?, ?)",
    origin.id,
    origin.url,
    origin.weight,
    origin.region,
    state,
    drainStartedAt,
    JSON.stringify(health),
  );
}

/** True when `origin` gives the row another url, weight or region. */
export function addressChanged(row: OriginRow, origin: Omit<OriginConfig, "id">): boolean {
  return row.url !== origin.url || row.weight !== origin.weight || row.region !== origin.region;
}

/** Gives the row's origin a new url / weight / region, keeping its administrative state. */
export function updateOriginAddress(sql: SqlStorage, row: OriginRow, origin: Omit<OriginConfig, "id">): void {
  // A new address is a new server: what we knew about the old one's health does not carry over.
  const health = row.url === origin.url ? row.health : JSON.stringify(INITIAL_HEALTH);
  sql.exec(
    "UPDATE origins SET url = ?, weight = ?, region = ?, health = ? WHERE id = ?",
    origin.url,
    origin.weight,
    origin.region,
    health,
    row.id,
  );
}

/** Sets an origin's administrative state, its drain start and its health record. */
export function updateOriginState(
  sql: SqlStorage,
  id: string,
  state: AdminState,
  drainStartedAt: number | null,
  health: HealthRecord,
): void {
  sql.exec(
    "UPDATE origins SET state = ?, drain_started_at = ?, health = ? WHERE id = ?",
    state,
    drainStartedAt,
    JSON.stringify(health),
    id,
  );
}

/** Stores an origin's health record. */
export function writeHealth(sql: SqlStorage, id: string, health: HealthRecord): void {
  sql.exec("UPDATE origins SET health = ? WHERE id = ?", JSON.stringify(health), id);
}

/** Removes an origin. */
export function deleteOrigin(sql: SqlStorage, id: string): void {
  sql.exec("DELETE FROM origins WHERE id = ?", id);
}
