/** REGIONS: the regional pools, where they are and which places they serve first (README "Regions"). */
import type { Region } from "../model.ts";
import type { FieldError, Result } from "../result.ts";

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
      const seen = new Set<string>();
      for (const code of value as string[]) {
        if (seen.has(code)) {
          errors.push({ field: `${at}.${name}`, message: `lists "${code}" more than once` });
          return [];
        }
        seen.add(code);
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
