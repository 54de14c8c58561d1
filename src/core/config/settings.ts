/**
 * Settings, parsed from the Worker's variables (ORIGINS: config/origins.ts, REGIONS: config/regions.ts).
 * Pure: plain data in, typed results out; every error names the variable it comes from.
 */
import { DEFAULT_HEALTH_SETTINGS as HEALTH } from "../health/health.ts";
import { parseAffinitySource, type AffinitySource } from "../key/affinity-key.ts";
import { parseStatusRanges } from "../health/probe-rules.ts";
import { parseRegions } from "./regions.ts";
import type { Region } from "../model.ts";
import type { FieldError, Result } from "../result.ts";

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
  readonly ringSlotsPerOrigin: number;
  readonly healthPath: string;
  readonly healthMethod: "GET" | "HEAD";
  readonly healthStatuses: ReadonlyArray<readonly [number, number]>;
  readonly healthBodyContains: string | null;
  readonly healthHost: string | null;
  readonly healthIntervalMs: number;
  /** HEALTH_FAST_INTERVAL_MS: how often origins not settled up are probed (HAProxy's fastinter); 0 = off. */
  readonly healthFastIntervalMs: number;
  readonly healthTimeoutMs: number;
  readonly healthRise: number;
  readonly healthFall: number;
  readonly ejectAfter: number;
  readonly ejectBaseMs: number;
  readonly ejectMaxMs: number;
  readonly ejectMaxPercent: number;
  readonly ejectWindowMs: number;
  readonly panicPercent: number;
  readonly slowStartMs: number;
  readonly drainMs: number;
  readonly reportIntervalMs: number;
  readonly maxBodyBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxUrlBytes: number;
  readonly retryBudgetPercent: number;
  readonly retryBudgetMin: number;
  readonly retryBudgetWindowMs: number;
  readonly debugHeaders: boolean;
  readonly viaPseudonym: string;
  /** LOCATION_CACHE: isolates of one location share the snapshot through the Cache API. */
  readonly locationCache: boolean;
  /** STATUS_PUBLIC: the read-only status JSON and page answer without the admin token. */
  readonly statusPublic: boolean;
  /** ADMIN_ALLOW_LOCAL_ORIGINS: lifts the admin API's origin URL rules (local development only). */
  readonly adminAllowLocalOrigins: boolean;
  /** ADMIN_ALLOWED_PORTS: explicit ports an origin URL entered through the admin API may name. */
  readonly adminAllowedPorts: readonly number[];
  readonly adminMaxBodyBytes: number;
  /** REGIONS: the regional pools and where they are (README "Regions"); empty = one pool. */
  readonly regions: readonly Region[];
  /** DEFAULT_REGION: the home pool when neither a mapping nor the client's coordinates decide. */
  readonly defaultRegion: string | null;
  /** AFFINITY_KEY: where the hashed key comes from (the client address by default). */
  readonly affinity: AffinitySource;
}

type IntegerKey = { [K in keyof Settings]: Settings[K] extends number ? K : never }[keyof Settings];

interface IntegerSetting {
  readonly name: string;
  readonly key: IntegerKey;
  readonly fallback: number;
  readonly min: number;
  readonly max: number;
}

const setting = (name: string, key: IntegerKey, fallback: number, min: number, max: number): IntegerSetting => ({
  name,
  key,
  fallback,
  min,
  max,
});

/** The numeric settings with their defaults and bounds (the README's settings tables mirror this). */
export const INTEGER_SETTINGS: readonly IntegerSetting[] = [
  setting("IPV4_PREFIX", "ipv4Prefix", 32, 0, 32),
  setting("IPV6_PREFIX", "ipv6Prefix", 64, 0, 128),
  setting("SNAPSHOT_TTL_MS", "snapshotTtlMs", 10_000, 100, 3_600_000),
  setting("DO_TIMEOUT_MS", "doTimeoutMs", 2_000, 50, 60_000),
  setting("MAX_ATTEMPTS", "maxAttempts", 3, 1, 10),
  setting("TRY_TIMEOUT_MS", "tryTimeoutMs", 10_000, 100, 100_000),
  setting("REQUEST_DEADLINE_MS", "requestDeadlineMs", 30_000, 100, 300_000),
  setting("REPLAY_BODY_LIMIT", "replayBodyLimit", 65_536, 0, 10_485_760),
  setting("RING_SLOTS_PER_ORIGIN", "ringSlotsPerOrigin", 100, 10, 500),
  // Health. The state machine's defaults live with it (core/health.ts cites their sources:
  // HAProxy's rise 2 / fall 3, Envoy's outlier detection); the panic threshold is Envoy's 50 %.
  setting("HEALTH_INTERVAL_MS", "healthIntervalMs", 10_000, 0, 3_600_000),
  setting("HEALTH_FAST_INTERVAL_MS", "healthFastIntervalMs", 2_000, 0, 3_600_000),
  setting("HEALTH_TIMEOUT_MS", "healthTimeoutMs", 2_000, 100, 60_000),
  setting("HEALTH_RISE", "healthRise", HEALTH.rise, 1, 100),
  setting("HEALTH_FALL", "healthFall", HEALTH.fall, 1, 100),
  setting("EJECT_AFTER_FAILURES", "ejectAfter", HEALTH.ejectAfter, 1, 1_000),
  setting("EJECT_BASE_MS", "ejectBaseMs", HEALTH.ejectBaseMs, 100, 3_600_000),
  setting("EJECT_MAX_MS", "ejectMaxMs", HEALTH.ejectMaxMs, 100, 86_400_000),
  setting("EJECT_MAX_PERCENT", "ejectMaxPercent", HEALTH.ejectMaxPercent, 0, 100),
  setting("EJECT_WINDOW_MS", "ejectWindowMs", HEALTH.ejectWindowMs, 100, 3_600_000),
  setting("PANIC_THRESHOLD_PERCENT", "panicPercent", 50, 0, 100),
  setting("SLOW_START_MS", "slowStartMs", 30_000, 0, 3_600_000),
  setting("DRAIN_MS", "drainMs", 60_000, 0, 86_400_000),
  setting("REPORT_INTERVAL_MS", "reportIntervalMs", 1_000, 100, 60_000),
  // Limits checked before any origin is contacted. Defaults follow Cloudflare's own: 100 MB request
  // bodies (Free/Pro plans), 16 KB URLs, 32 KB of request headers.
  setting("MAX_BODY_BYTES", "maxBodyBytes", 104_857_600, 0, 536_870_912),
  setting("MAX_HEADER_BYTES", "maxHeaderBytes", 32_768, 1_024, 131_072),
  setting("MAX_URL_BYTES", "maxUrlBytes", 16_384, 256, 65_536),
  // Retry budget, per isolate and window: retries ≤ 50 % of requests caps attempts at 1.5× load.
  // (Envoy defaults to 20 %, but of concurrent requests; 20 % per window would be spent by one dead
  // origin of four, whose clients are 25 % of requests, before passive ejection acts.)
  setting("RETRY_BUDGET_PERCENT", "retryBudgetPercent", 50, 0, 100),
  setting("RETRY_BUDGET_MIN", "retryBudgetMin", 10, 0, 1_000),
  setting("RETRY_BUDGET_WINDOW_MS", "retryBudgetWindowMs", 10_000, 1_000, 600_000),
  // Admin API: one origin per body, so 16 KiB is ample; the cap bounds what an isolate buffers.
  setting("ADMIN_MAX_BODY_BYTES", "adminMaxBodyBytes", 16_384, 256, 1_048_576),
];

/** The default reserved path prefix for the balancer's own routes. */
export const DEFAULT_LB_PREFIX = "/__lb";

/** Defaults of the text settings (the README's settings tables mirror these). */
export const TEXT_DEFAULTS = {
  HEALTH_PATH: "/",
  HEALTH_METHOD: "GET",
  HEALTH_EXPECTED_STATUS: "200-399",
  DEBUG_HEADERS: "false",
  VIA_PSEUDONYM: "edge-affinity-lb",
  STATUS_PUBLIC: "false",
  LOCATION_CACHE: "true",
  ADMIN_ALLOW_LOCAL_ORIGINS: "false",
  ADMIN_ALLOWED_PORTS: "443,8443",
} as const;

// Segments of unreserved characters (RFC 3986 §2.3), but not "." or "..": a normalized request
// path never contains those, so such a prefix could never be reached.
const PREFIX_PATTERN = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~-]+)+$/;
// An origin-form path (RFC 9112 §3.2.1) with an optional query, printable ASCII only.
const HEALTH_PATH_PATTERN = /^\/[\x21-\x7e]*$/;
// A host name with an optional port: letters, digits, dots, hyphens.
const HOST_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?$/;

// RFC 9110 §5.6.2 token: a Via pseudonym must be one.
const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

const isUnset = (value: unknown) => value === undefined || value === null || value === "";

/** Parses the settings from the Worker's variables; a missing or empty variable takes its default. */
export function parseSettings(vars: Readonly<Record<string, unknown>>): Result<Settings> {
  const errors: FieldError[] = [];
  const values: Record<string, unknown> = {};
  for (const { name, key, fallback, min, max } of INTEGER_SETTINGS) {
    const raw = vars[name];
    if (isUnset(raw)) {
      values[key] = fallback;
      continue;
    }
    const value =
      typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      errors.push({ field: name, message: `must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})` });
      continue;
    }
    values[key] = value;
  }
  const text = (name: string, fallback: string | null): unknown => (isUnset(vars[name]) ? fallback : vars[name]);

  const prefix = text("LB_PREFIX", DEFAULT_LB_PREFIX);
  if (typeof prefix !== "string" || !PREFIX_PATTERN.test(prefix)) {
    errors.push({
      field: "LB_PREFIX",
      message: `must be a path like "/__lb": a slash, then segments of letters, digits, "._~-" (got ${JSON.stringify(prefix)})`,
    });
  } else values.lbPrefix = prefix;

  const path = text("HEALTH_PATH", TEXT_DEFAULTS.HEALTH_PATH);
  if (typeof path !== "string" || !HEALTH_PATH_PATTERN.test(path) || path.includes("#")) {
    errors.push({ field: "HEALTH_PATH", message: `must be a path starting with "/" (got ${JSON.stringify(path)})` });
  } else values.healthPath = path;

  const method = text("HEALTH_METHOD", TEXT_DEFAULTS.HEALTH_METHOD);
  if (method !== "GET" && method !== "HEAD") {
    errors.push({ field: "HEALTH_METHOD", message: `must be GET or HEAD (got ${JSON.stringify(method)})` });
  } else values.healthMethod = method;

  const statuses = text("HEALTH_EXPECTED_STATUS", TEXT_DEFAULTS.HEALTH_EXPECTED_STATUS);
  // A TOML `HEALTH_EXPECTED_STATUS = 200` arrives as a number.
  const ranges =
    typeof statuses === "string" || typeof statuses === "number" ? parseStatusRanges(String(statuses)) : null;
  if (ranges === null) errors.push({ field: "HEALTH_EXPECTED_STATUS", message: 'must be a string like "200-399"' });
  else if (!ranges.ok) errors.push(...ranges.errors);
  else values.healthStatuses = ranges.value;

  const body = text("HEALTH_BODY_CONTAINS", null);
  if (body !== null && (typeof body !== "string" || body.length > 256)) {
    errors.push({ field: "HEALTH_BODY_CONTAINS", message: "must be a string of at most 256 characters" });
  } else values.healthBodyContains = body;

  const host = text("HEALTH_HOST", null);
  if (host !== null && (typeof host !== "string" || !HOST_PATTERN.test(host))) {
    errors.push({
      field: "HEALTH_HOST",
      message: `must be a host name, optionally with a port (got ${JSON.stringify(host)})`,
    });
  } else values.healthHost = host;

  const flags = [
    ["DEBUG_HEADERS", "debugHeaders"],
    ["STATUS_PUBLIC", "statusPublic"],
    ["LOCATION_CACHE", "locationCache"],
    ["ADMIN_ALLOW_LOCAL_ORIGINS", "adminAllowLocalOrigins"],
  ] as const;
  for (const [name, key] of flags) {
    const flag = text(name, TEXT_DEFAULTS[name]);
    if (flag === true || flag === "true" || flag === "1") values[key] = true;
    else if (flag === false || flag === "false" || flag === "0") values[key] = false;
    else errors.push({ field: name, message: `must be true or false (got ${JSON.stringify(flag)})` });
  }

  const ports = parsePorts(text("ADMIN_ALLOWED_PORTS", TEXT_DEFAULTS.ADMIN_ALLOWED_PORTS));
  if (ports === null) {
    errors.push({
      field: "ADMIN_ALLOWED_PORTS",
      message: `must be a comma-separated list of ports from 1 to 65535, like "443,8443" (got ${JSON.stringify(vars.ADMIN_ALLOWED_PORTS)})`,
    });
  } else values.adminAllowedPorts = ports;

  const via = text("VIA_PSEUDONYM", TEXT_DEFAULTS.VIA_PSEUDONYM);
  if (typeof via !== "string" || !TOKEN_PATTERN.test(via)) {
    errors.push({ field: "VIA_PSEUDONYM", message: `must be a token of 1–64 characters (got ${JSON.stringify(via)})` });
  } else values.viaPseudonym = via;

  const regions = parseRegions(vars.REGIONS);
  if (!regions.ok) errors.push(...regions.errors);
  else {
    values.regions = regions.value;
    const fallback = text("DEFAULT_REGION", null);
    if (fallback !== null && (typeof fallback !== "string" || !regions.value.some((r) => r.id === fallback))) {
      errors.push({
        field: "DEFAULT_REGION",
        message: `must be the id of one of REGIONS (got ${JSON.stringify(fallback)})`,
      });
    } else values.defaultRegion = fallback;
  }

  const affinity = parseAffinitySource(vars.AFFINITY_KEY);
  if (!affinity.ok) errors.push(...affinity.errors);
  else values.affinity = affinity.value;

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: values as unknown as Settings };
}

/** A port list: "443,8443", a TOML number (8443) or a TOML array ([443, 8443]); null when malformed. */
function parsePorts(raw: unknown): number[] | null {
  const items = Array.isArray(raw)
    ? raw
    : typeof raw === "number"
      ? [raw]
      : typeof raw === "string"
        ? raw.split(",")
        : null;
  if (items === null || items.length > 64) return null;
  const ports = new Set<number>();
  for (const item of items) {
    const port =
      typeof item === "number" ? item : typeof item === "string" && /^\s*\d{1,5}\s*$/.test(item) ? Number(item) : NaN;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return null;
    ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}
