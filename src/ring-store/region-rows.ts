/**
 * The `regions` table: the regional pools as the object holds them (seeded from REGIONS, changed
 * by the admin API; countries and continents as JSON arrays), with DEFAULT_REGION in meta.
 */
import type { Region } from "../core/model.ts";
import { deleteMeta, readMeta, writeMeta } from "./meta.ts";

/** The stored regions sorted by id, and the default region. */
export interface StoredRegions {
  regions: Region[];
  defaultRegion: string | null;
}

/** The stored regions and default region. */
export function readRegions(sql: SqlStorage): StoredRegions {
  const rows = sql
    .exec<{ id: string; latitude: number; longitude: number; countries: string; continents: string }>(
      "SELECT id, latitude, longitude, countries, continents FROM regions ORDER BY id",
    )
    .toArray();
  return {
    regions: rows.map((row) => ({
      id: row.id,
      latitude: row.latitude,
      longitude: row.longitude,
      countries: JSON.parse(row.countries) as string[],
      continents: JSON.parse(row.continents) as string[],
    })),
    defaultRegion: readMeta(sql, "default_region") ?? null,
  };
}

/** The declared region ids: the pools besides the catch-all. */
export function readRegionIds(sql: SqlStorage): ReadonlySet<string> {
  return new Set(readRegions(sql).regions.map((region) => region.id));
}

/** Replaces the regions and the default region. */
export function writeRegions(sql: SqlStorage, regions: readonly Region[], defaultRegion: string | null): void {
  sql.exec("DELETE FROM regions");
  for (const region of regions) {
    sql.exec(
      "INSERT INTO regions (id, latitude, longitude, countries, continents) VALUES (?, ?, ?, ?, ?)",
      region.id,
      region.latitude,
      region.longitude,
      JSON.stringify(region.countries),
      JSON.stringify(region.continents),
    );
  }
  if (defaultRegion === null) deleteMeta(sql, "default_region");
  else writeMeta(sql, "default_region", defaultRegion);
}
