/**
 * The origin list (ORIGINS, and one origin entered through the admin API), parsed and normalized.
 * Pure: plain data in, typed results out; every error names the entry and field it comes from.
 */
import type { OriginConfig } from "../model.ts";
import type { FieldError, Result } from "../result.ts";

/** Most origins one deployment may hold (bounds ring memory: see README, "Scale"). */
export const MAX_ORIGINS = 1_000;

/** Largest weight of one origin (relative to the others: weights share the ring's slots). */
export const MAX_WEIGHT = 100;

/**
 * Smallest weight: at most 10,000 : 1 between two origins. Below it (1e-300, 5e-324 were accepted)
 * an active origin would hold no slot at all; at it, an origin beside weight-100 ones may still
 * round to no slot, which the disruption preview and `share` show as 0.
 */
export const MIN_WEIGHT = 0.01;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * Parses the origin list: a TOML array of tables (arrives as an array) or a JSON string of the
 * same shape (so `wrangler dev --var ORIGINS:'[...]'` works). The result is sorted by id, so the
 * order in the configuration never matters.
 */
export function parseOrigins(raw: unknown, field = "ORIGINS"): Result<OriginConfig[]> {
  let list = raw;
  if (typeof raw === "string") {
    try {
      list = JSON.parse(raw);
    } catch {
      return {
        ok: false,
        errors: [{ field, message: "is not valid JSON: expected an array of origins" }],
      };
    }
  }
  if (!Array.isArray(list)) {
    return {
      ok: false,
      errors: [{ field, message: "must be an array of { id, url, weight?, region? }" }],
    };
  }
  if (list.length > MAX_ORIGINS) {
    return {
      ok: false,
      errors: [
        {
          field,
          message: `holds ${list.length} origins; at most ${MAX_ORIGINS}`,
        },
      ],
    };
  }
  const errors: FieldError[] = [];
  const origins: OriginConfig[] = [];
  const seen = new Set<string>();
  list.forEach((entry: unknown, index) => {
    const result = parseOrigin(entry, `${field}[${index}]`);
    if (!result.ok) {
      errors.push(...result.errors);
      return;
    }
    if (seen.has(result.value.id)) {
      errors.push({
        field: `${field}[${index}].id`,
        message: `duplicates id "${result.value.id}"`,
      });
      return;
    }
    seen.add(result.value.id);
    origins.push(result.value);
  });
  if (errors.length > 0) return { ok: false, errors };
  origins.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ok: true, value: origins };
}

/** Parses one origin entry; `field` prefixes the error fields (e.g. "ORIGINS[2]"). */
export function parseOrigin(entry: unknown, field: string): Result<OriginConfig> {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    return {
      ok: false,
      errors: [{ field, message: "must be an object { id, url, weight?, region? }" }],
    };
  }
  const record = entry as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const key of Object.keys(record)) {
    if (key !== "id" && key !== "url" && key !== "weight" && key !== "region") {
      errors.push({
        field: `${field}.${key}`,
        message: "is not a known origin field (id, url, weight, region)",
      });
    }
  }
  const { id, url, weight = 1, region = null } = record;
  if (typeof id !== "string" || !ID_PATTERN.test(id)) {
    errors.push({
      field: `${field}.id`,
      message: 'must be 1–64 characters of letters, digits, "._-", starting with a letter or digit',
    });
  }
  const urlError = typeof url === "string" ? checkOriginUrl(url) : "must be a string";
  if (urlError !== null) errors.push({ field: `${field}.url`, message: urlError });
  if (typeof weight !== "number" || !Number.isFinite(weight) || weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
    errors.push({
      field: `${field}.weight`,
      message: `must be a number from ${MIN_WEIGHT} to ${MAX_WEIGHT}`,
    });
  }
  if (region !== null && (typeof region !== "string" || !REGION_PATTERN.test(region))) {
    errors.push({
      field: `${field}.region`,
      message: 'must be 1–32 characters of lower-case letters, digits and "-"',
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      id: id as string,
      url: normalizeOriginUrl(url as string),
      weight: weight as number,
      region: region as string | null,
    },
  };
}

/** Why an origin URL is unusable, or null: http(s) only, a host, no credentials, query or fragment. */
export function checkOriginUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not an absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must use https (or http for local origins)";
  if (url.hostname === "") return "must name a host";
  if (url.username !== "" || url.password !== "") return "must not carry credentials";
  if (url.search !== "" || text.includes("?")) return "must not carry a query";
  if (url.hash !== "" || text.includes("#")) return "must not carry a fragment";
  return null;
}

/** The canonical text of an origin URL: WHATWG-serialized, without a trailing slash on its path. */
function normalizeOriginUrl(text: string): string {
  const url = new URL(text);
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.protocol}//${url.host}${path}`;
}
