/**
 * Settings and the bootstrap origin list, parsed from the Worker's variables. Pure: plain data in,
 * typed results out; every error names the variable (and the origin entry) it comes from.
 */

/** An origin as configured: stable id, base URL, weight, optional region. */
export interface OriginConfig {
  readonly id: string;
  readonly url: string;
  readonly weight: number;
  readonly region: string | null;
}

/** Every tunable of the balancer; names mirror the variables in wrangler.toml. */
export interface Settings {
  readonly lbPrefix: string;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  readonly snapshotTtlMs: number;
  readonly doTimeoutMs: number;
  readonly maxAttempts: number;
  readonly tryTimeoutMs: number;
  readonly requestDeadlineMs: number;
  readonly replayBodyLimit: number;
  readonly ringVnodes: number;
}

/** A configuration error that names its field. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** A typed result: the value, or the errors that prevented it. */
export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: FieldError[] };

interface IntegerSetting {
  readonly name: string;
  readonly key: Exclude<keyof Settings, "lbPrefix">;
  readonly fallback: number;
  readonly min: number;
  readonly max: number;
}

/** The numeric settings with their defaults and bounds (the README's settings table mirrors this). */
export const INTEGER_SETTINGS: readonly IntegerSetting[] = [
  { name: "IPV4_PREFIX", key: "ipv4Prefix", fallback: 32, min: 0, max: 32 },
  { name: "IPV6_PREFIX", key: "ipv6Prefix", fallback: 64, min: 0, max: 128 },
  {
    name: "SNAPSHOT_TTL_MS",
    key: "snapshotTtlMs",
    fallback: 10_000,
    min: 100,
    max: 3_600_000,
  },
  {
    name: "DO_TIMEOUT_MS",
    key: "doTimeoutMs",
    fallback: 2_000,
    min: 50,
    max: 60_000,
  },
  { name: "MAX_ATTEMPTS", key: "maxAttempts", fallback: 3, min: 1, max: 10 },
  {
    name: "TRY_TIMEOUT_MS",
    key: "tryTimeoutMs",
    fallback: 10_000,
    min: 100,
    max: 100_000,
  },
  {
    name: "REQUEST_DEADLINE_MS",
    key: "requestDeadlineMs",
    fallback: 30_000,
    min: 100,
    max: 300_000,
  },
  {
    name: "REPLAY_BODY_LIMIT",
    key: "replayBodyLimit",
    fallback: 65_536,
    min: 0,
    max: 10_485_760,
  },
  { name: "RING_VNODES", key: "ringVnodes", fallback: 160, min: 1, max: 1_000 },
];

/** The default reserved path prefix for the balancer's own routes. */
export const DEFAULT_LB_PREFIX = "/__lb";

/** Most origins one deployment may hold (bounds ring memory: see README, "Scale"). */
export const MAX_ORIGINS = 1_000;

/** Largest weight of one origin; with RING_VNODES 160 that is 16,000 ring points. */
export const MAX_WEIGHT = 100;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
// Segments of unreserved characters (RFC 3986 §2.3), but not "." or "..": a normalized request
// path never contains those, so such a prefix could never be reached.
const PREFIX_PATTERN = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~-]+)+$/;

/** Parses the settings from the Worker's variables; a missing variable takes its default. */
export function parseSettings(vars: Readonly<Record<string, unknown>>): Result<Settings> {
  const errors: FieldError[] = [];
  const values: Record<string, number | string> = {};
  for (const setting of INTEGER_SETTINGS) {
    const raw = vars[setting.name];
    if (raw === undefined || raw === null || raw === "") {
      values[setting.key] = setting.fallback;
      continue;
    }
    const value =
      typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < setting.min || value > setting.max) {
      errors.push({
        field: setting.name,
        message: `must be an integer from ${setting.min} to ${setting.max} (got ${JSON.stringify(raw)})`,
      });
      continue;
    }
    values[setting.key] = value;
  }
  const prefix =
    vars.LB_PREFIX === undefined || vars.LB_PREFIX === null || vars.LB_PREFIX === ""
      ? DEFAULT_LB_PREFIX
      : vars.LB_PREFIX;
  if (typeof prefix !== "string" || !PREFIX_PATTERN.test(prefix)) {
    errors.push({
      field: "LB_PREFIX",
      message: `must be a path like "/__lb": a slash, then segments of letters, digits, "._~-" (got ${JSON.stringify(prefix)})`,
    });
  } else {
    values.lbPrefix = prefix;
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: values as unknown as Settings };
}

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
  if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0 || weight > MAX_WEIGHT) {
    errors.push({
      field: `${field}.weight`,
      message: `must be a number above 0 and at most ${MAX_WEIGHT}`,
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
