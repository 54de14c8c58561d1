/**
 * The text settings (paths, methods, flags, lists, regions, the affinity key): parsed into the
 * same `values` record as the integers, every error naming its variable (settings.ts holds the
 * Settings type and the integer table).
 */
import { parseAffinitySource } from "../key/affinity-key.ts";
import { parseStatusRanges } from "../health/probe-rules.ts";
import { parseRegions } from "./regions.ts";
import type { FieldError } from "../result.ts";

/** The default reserved path prefix for the balancer's own routes. */
export const DEFAULT_LB_PREFIX = "/__lb";

/** Defaults of the text settings (the README's settings tables mirror these). */
export const TEXT_DEFAULTS = {
  HEALTH_PATH: "/",
  HEALTH_METHOD: "GET",
  HEALTH_EXPECTED_STATUS: "200-399",
  DEBUG_HEADERS: "false",
  VIA_PSEUDONYM: "edge-affinity-lb",
  VIA_RESPONSE: "false",
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

export const isUnset = (value: unknown): boolean => value === undefined || value === null || value === "";

/** An integer variable's value: a number as given, a string of digits as its number; NaN when neither (range-checked by the caller). */
export function integerOf(raw: unknown): number {
  return typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
}

/** Parses every text setting into `values` (keyed by Settings' names); errors go to `errors`. */
export function parseTextSettings(
  vars: Readonly<Record<string, unknown>>,
  errors: FieldError[],
  values: Record<string, unknown>,
): void {
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
    ["VIA_RESPONSE", "viaResponse"],
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
