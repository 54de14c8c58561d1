/**
 * Steering (issue 7): which regional pool a request goes to first, and the order of the others.
 * Pure: regions and the request's `cf` location in, an ordered list of region ids out.
 *
 * Order of rules: an explicit country mapping, then an explicit continent mapping, then the
 * nearest region by great-circle distance from the client's coordinates, then DEFAULT_REGION (or
 * the first region by id). The fallback order after the home region is by distance from the
 * client when its coordinates are known, else from the home region; ties by id.
 */
import type { Region } from "../model.ts";

/** The parts of `request.cf` steering reads. Cloudflare sends coordinates as strings. */
export interface ClientLocation {
  readonly country?: string | null;
  readonly continent?: string | null;
  readonly latitude?: string | number | null;
  readonly longitude?: string | number | null;
}

const EARTH_RADIUS_KM = 6_371.0088; // IUGG mean radius

/**
 * Great-circle distance in km by the haversine formula (R. W. Sinnott, "Virtues of the
 * Haversine", Sky and Telescope 68, 1984), numerically stable for small distances.
 */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

function coordinate(value: unknown, limit: number): number | null {
  const number = typeof value === "number" ? value : typeof value === "string" && value !== "" ? Number(value) : NaN;
  return Number.isFinite(number) && Math.abs(number) <= limit ? number : null;
}

/** Why the home region was chosen (for the debug headers and the status page). */
export type SteeringReason = "country" | "continent" | "nearest" | "default";

/** The pool order for one client: home first, then the fallbacks. */
export interface PoolOrder {
  readonly order: readonly string[];
  readonly reason: SteeringReason;
}

/**
 * Orders `regions` (sorted by id, non-empty) for a client at `where`. `defaultRegion` is used when
 * neither a mapping nor coordinates decide (null: the first region by id).
 */
export function orderPools(regions: readonly Region[], where: ClientLocation, defaultRegion: string | null): PoolOrder {
  const lat = coordinate(where.latitude, 90);
  const lon = coordinate(where.longitude, 180);
  const country = typeof where.country === "string" ? where.country.toUpperCase() : null;
  const continent = typeof where.continent === "string" ? where.continent.toUpperCase() : null;

  let home: Region | undefined;
  let reason: SteeringReason = "default";
  if (country !== null) home = regions.find((region) => region.countries.includes(country));
  if (home !== undefined) reason = "country";
  else if (continent !== null) {
    home = regions.find((region) => region.continents.includes(continent));
    if (home !== undefined) reason = "continent";
  }
  const known = lat !== null && lon !== null;
  const from = (region: Region) =>
    known
      ? distanceKm(lat, lon, region.latitude, region.longitude)
      : home !== undefined
        ? distanceKm(home.latitude, home.longitude, region.latitude, region.longitude)
        : 0;
  const byDistance = regions
    .map((region) => ({ region, km: from(region) }))
    .sort((a, b) => a.km - b.km || (a.region.id < b.region.id ? -1 : a.region.id > b.region.id ? 1 : 0));
  if (home === undefined && known) {
    home = byDistance[0]!.region;
    reason = "nearest";
  }
  if (home === undefined) {
    home = regions.find((region) => region.id === defaultRegion) ?? regions[0]!;
    // Without coordinates or a mapping, the fallbacks are ordered by distance from the default.
    const base = home;
    byDistance.sort(
      (a, b) =>
        distanceKm(base.latitude, base.longitude, a.region.latitude, a.region.longitude) -
          distanceKm(base.latitude, base.longitude, b.region.latitude, b.region.longitude) ||
        (a.region.id < b.region.id ? -1 : 1),
    );
  }
  const order = [home.id];
  for (const { region } of byDistance) if (region.id !== home.id) order.push(region.id);
  return { order, reason };
}
