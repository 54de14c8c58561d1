/**
 * The settings of load-aware placement, parsed from the Worker's variables like config/settings.ts
 * does the rest: a missing or empty variable takes its default, and every error names its variable.
 */
import type { FieldError, Result } from "../result.ts";
import { integerOf, isUnset } from "../config/text-settings.ts";

/** The placement tunables; names mirror the variables. */
export interface PlacementSettings {
  /** LOAD_BOUND_FACTOR: bound = factor × the pool's mean load per unit weight; 0 = placement off. */
  readonly loadBoundFactor: number;
  /** PLACEMENT_INTERVAL_MS: how often the Durable Object re-plans from the edge-wide view. */
  readonly placementIntervalMs: number;
  /** TRAFFIC_WINDOW_MS: the sliding window of the edge-wide rates, and the least a placement is held. */
  readonly trafficWindowMs: number;
  /** HOT_KEYS_MAX: heavy keys the view keeps and the planner may place. */
  readonly hotKeysMax: number;
  /** AFFINITY_COOKIE_TTL_S: Max-Age of the cookie that pins a split key's user to one origin. */
  readonly affinityCookieTtlS: number;
  /** AFFINITY_COOKIE_NAME: that cookie's name. */
  readonly affinityCookieName: string;
}

/** 1.25 × the mean: HAProxy's hash-balance-factor 125, the goal. */
export const DEFAULT_LOAD_BOUND_FACTOR = 1.25;
/** Below 1.05 the bound is within the noise of a one-minute rate and placements would chase it. */
export const MIN_LOAD_BOUND_FACTOR = 1.05;
export const MAX_LOAD_BOUND_FACTOR = 10;

interface IntegerSetting {
  readonly name: string;
  readonly key: "placementIntervalMs" | "trafficWindowMs" | "hotKeysMax" | "affinityCookieTtlS";
  readonly fallback: number;
  readonly min: number;
  readonly max: number;
}

/** The integer settings with their defaults and bounds (the README's table mirrors these). */
export const PLACEMENT_INTEGER_SETTINGS: readonly IntegerSetting[] = [
  // Every 10 s: a hot key is relieved within one interval of the view showing it.
  { name: "PLACEMENT_INTERVAL_MS", key: "placementIntervalMs", fallback: 10_000, min: 1_000, max: 3_600_000 },
  // One minute: long enough that a rate is steady (a few % of noise), short enough to follow a surge.
  { name: "TRAFFIC_WINDOW_MS", key: "trafficWindowMs", fallback: 60_000, min: 6_000, max: 3_600_000 },
  // 64 heavy keys: the view's memory is buckets × (origins + this); 256 keeps it under 1 MB.
  { name: "HOT_KEYS_MAX", key: "hotKeysMax", fallback: 64, min: 1, max: 256 },
  // One day: a NAT user keeps one origin for a working day; at most a year, as browsers cap it.
  { name: "AFFINITY_COOKIE_TTL_S", key: "affinityCookieTtlS", fallback: 86_400, min: 60, max: 31_536_000 },
];

export const DEFAULT_AFFINITY_COOKIE_NAME = "lb_affinity";

// RFC 6265 §4.1.1: a cookie name is an RFC 2616 token.
const COOKIE_NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

/** Parses the placement settings from the Worker's variables. */
export function parsePlacementSettings(vars: Readonly<Record<string, unknown>>): Result<PlacementSettings> {
  const errors: FieldError[] = [];
  const values: Record<string, number | string> = {};

  const factorRaw = vars.LOAD_BOUND_FACTOR;
  const factor = isUnset(factorRaw)
    ? DEFAULT_LOAD_BOUND_FACTOR
    : typeof factorRaw === "number"
      ? factorRaw
      : typeof factorRaw === "string" && /^\s*\d+(?:\.\d+)?\s*$/.test(factorRaw)
        ? Number(factorRaw)
        : NaN;
  if (!(factor === 0 || (factor >= MIN_LOAD_BOUND_FACTOR && factor <= MAX_LOAD_BOUND_FACTOR))) {
    errors.push({
      field: "LOAD_BOUND_FACTOR",
      message: `must be 0 (off) or a number from ${MIN_LOAD_BOUND_FACTOR} to ${MAX_LOAD_BOUND_FACTOR} (got ${JSON.stringify(factorRaw)})`,
    });
  } else values.loadBoundFactor = factor;

  for (const { name, key, fallback, min, max } of PLACEMENT_INTEGER_SETTINGS) {
    const raw = vars[name];
    const value = isUnset(raw) ? fallback : integerOf(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      errors.push({ field: name, message: `must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})` });
    } else values[key] = value;
  }

  // The planner reads the window once per interval: a window shorter than the interval would leave
  // traffic between two plans unseen.
  const interval = values.placementIntervalMs;
  const window = values.trafficWindowMs;
  if (typeof interval === "number" && typeof window === "number" && window < interval) {
    errors.push({
      field: "TRAFFIC_WINDOW_MS",
      message: `must be at least PLACEMENT_INTERVAL_MS (${interval}) (got ${window})`,
    });
  }

  const name = isUnset(vars.AFFINITY_COOKIE_NAME) ? DEFAULT_AFFINITY_COOKIE_NAME : vars.AFFINITY_COOKIE_NAME;
  if (typeof name !== "string" || !COOKIE_NAME_PATTERN.test(name)) {
    errors.push({
      field: "AFFINITY_COOKIE_NAME",
      message: `must be a cookie name: 1–64 letters, digits or "!#$%&'*+-.^_\`|~" (got ${JSON.stringify(name)})`,
    });
  } else values.affinityCookieName = name;

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: values as unknown as PlacementSettings };
}
