/**
 * Steering (issue 7): which regional pool a request goes to first, and the order of the others.
 * Pure: regions and the request's `cf` location in, an ordered list of region ids out.
 *
 * Order of rules: an explicit country mapping, then an explicit continent mapping, then the
 * nearest region by great-circle distance from the client's coordinates, then DEFAULT_REGION (or
 * the first region by id). The fallback order after the home region is by distance from the
 * client when its coordinates are known, else from the home region; ties by id.
 */
import type { FieldError, Result } from "./config.ts";

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

/** The parts of `request.cf` steering reads. Cloudflare sends coordinates as strings. */
export interface ClientLocation {
  readonly country?: string | null;
  readonly continent?: string | null;
  readonly latitude?: string | number | null;
  readonly longitude?: string | number | null;
}

export const MAX_REGIONS = 64;
const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
const CONTINENTS = new Set(["AF", "AN", "AS", "EU", "NA", "OC", "SA"]);
const COUNTRY_PATTERN = /^[A-Z]{2}$/;

/**
 * Parses REGIONS: a TOML array of tables or a JSON string of
 * `{ id, latitude, longitude, countries?, continents? }`; sorted by id. A country or continent
 * claimed by two regions is an error (the mapping must be unambiguous).
 */
export function parseRegions(raw: unknown, field = "REGIONS"): Result<Region[]> {
  if (raw === undefined || raw === null || raw === "") return { ok: true, value: [] };
  let list = raw;
  if (typeof raw === "string") {
    try {
      list = JSON.parse(raw);
    } catch {
      return { ok: false, errors: [{ field, message: "is not valid JSON: expected an array of regions" }] };
    }
  }
  if (!Array.isArray(list)) {
    return {
      ok: false,
      errors: [{ field, message: "must be an array of { id, latitude, longitude, countries?, continents? }" }],
    };
  }
  if (list.length > MAX_REGIONS) {
    return { ok: false, errors: [{ field, message: `holds ${list.length} regions; at most ${MAX_REGIONS}` }] };
  }
  const errors: FieldError[] = [];
  const regions: Region[] = [];
  const ids = new Set<string>();
  const claimed = new Map<string, string>();
  list.forEach((entry: unknown, index) => {
    const at = `${field}[${index}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      errors.push({ field: at, message: "must be an object { id, latitude, longitude, countries?, continents? }" });
      return;
    }
    const record = entry as Record<string, unknown>;
    const before = errors.length;
    for (const key of Object.keys(record)) {
      if (!["id", "latitude", "longitude", "countries", "continents"].includes(key)) {
        errors.push({
          field: `${at}.${key}`,
          message: "is not a known region field (id, latitude, longitude, countries, continents)",
        });
      }
    }
    const { id, latitude, longitude, countries = [], continents = [] } = record;
    if (typeof id !== "string" || !REGION_PATTERN.test(id)) {
      errors.push({ field: `${at}.id`, message: 'must be 1–32 characters of lower-case letters, digits and "-"' });
    } else if (ids.has(id)) {
      errors.push({ field: `${at}.id`, message: `duplicates region "${id}"` });
    }
    if (typeof latitude !== "number" || !(latitude >= -90 && latitude <= 90)) {
      errors.push({ field: `${at}.latitude`, message: "must be a number from -90 to 90" });
    }
    if (typeof longitude !== "number" || !(longitude >= -180 && longitude <= 180)) {
      errors.push({ field: `${at}.longitude`, message: "must be a number from -180 to 180" });
    }
    const codes = (value: unknown, name: string, valid: (code: string) => boolean, what: string): string[] => {
      if (!Array.isArray(value) || value.some((code) => typeof code !== "string" || !valid(code))) {
        errors.push({ field: `${at}.${name}`, message: `must be an array of ${what}` });
        return [];
      }
      return value as string[];
    };
    const countryList = codes(countries, "countries", (c) => COUNTRY_PATTERN.test(c), "upper-case ISO 3166 codes");
    const continentList = codes(continents, "continents", (c) => CONTINENTS.has(c), "AF, AN, AS, EU, NA, OC, SA");
    for (const code of [...countryList, ...continentList]) {
      const owner = claimed.get(code);
      if (owner !== undefined && owner !== id) {
        errors.push({ field: `${at}`, message: `"${code}" is already mapped to region "${owner}"` });
      } else claimed.set(code, id as string);
    }
    if (errors.length > before) return;
    ids.add(id as string);
    regions.push({
      id: id as string,
      latitude: latitude as number,
      longitude: longitude as number,
      countries: countryList,
      continents: continentList,
    });
  });
  if (errors.length > 0) return { ok: false, errors };
  regions.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ok: true, value: regions };
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
