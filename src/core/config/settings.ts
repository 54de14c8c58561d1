/**
 * Settings, parsed from the Worker's variables (ORIGINS: config/origins.ts, REGIONS: config/regions.ts).
 * Pure: plain data in, typed results out; every error names the variable it comes from.
 */
import { DEFAULT_HEALTH_SETTINGS as HEALTH } from "../health/health.ts";
import type { AffinitySource } from "../key/affinity-key.ts";
import { parseForwardFields, type ForwardFields } from "./forward-fields.ts";
import { checkLocationHint } from "./location-hint.ts";
import { parseOriginAuth, type OriginAuth } from "./origin-auth.ts";
import { parsePlacementSettings, type PlacementSettings } from "../placement/placement-settings.ts";
import { integerOf, isUnset, parseTextSettings } from "./text-settings.ts";
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
  /** RETRY_BUDGET_CLIENT_PERCENT: one client's share of the retry allowance (core/proxy/client-retry-share.ts). */
  readonly retryBudgetClientPercent: number;
  /** EJECT_MIN_CLIENTS: distinct client addresses whose requests must fail before passive ejection. */
  readonly ejectMinClients: number;
  /** ADMIN_TIMEOUT_MS: how long the admin API waits for the Durable Object before answering 503. */
  readonly adminTimeoutMs: number;
  readonly debugHeaders: boolean;
  readonly viaPseudonym: string;
  /** VIA_RESPONSE: our Via entry is added to responses too (each is then rebuilt, README "What the origin receives"). */
  readonly viaResponse: boolean;
  /** FORWARD_HEADERS: the fields added to every proxied request besides Via (config/forward-fields.ts). */
  readonly forwardFields: ForwardFields;
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
  /** ORIGIN_AUTH_SECRET / ORIGIN_AUTH_HEADER: the secret every origin request carries; null = none. */
  readonly originAuth: OriginAuth | null;
  /** LOAD_BOUND_FACTOR, PLACEMENT_INTERVAL_MS, TRAFFIC_WINDOW_MS, HOT_KEYS_MAX, AFFINITY_COOKIE_*: load-aware placement. */
  readonly placement: PlacementSettings;
  /** What was tolerated but should be fixed (a weak secret): logged once per isolate, never fatal. */
  readonly warnings: readonly FieldError[];
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
  setting("EJECT_MIN_CLIENTS", "ejectMinClients", HEALTH.ejectMinClients, 1, 16),
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
  // One client (address) may take at most this share of the allowance, so a client sending
  // failing requests cannot spend the retries other clients' failovers need.
  setting("RETRY_BUDGET_CLIENT_PERCENT", "retryBudgetClientPercent", 20, 1, 100),
  // Admin API: one origin per body, so 16 KiB is ample; the cap bounds what an isolate buffers.
  setting("ADMIN_MAX_BODY_BYTES", "adminMaxBodyBytes", 16_384, 256, 1_048_576),
  // Every Durable Object call of the admin API is bounded: a hung object gives 503, not a hang.
  setting("ADMIN_TIMEOUT_MS", "adminTimeoutMs", 10_000, 100, 60_000),
];

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
    const value = integerOf(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      errors.push({ field: name, message: `must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})` });
      continue;
    }
    values[key] = value;
  }
  parseTextSettings(vars, errors, values);
  const auth = parseOriginAuth(vars);
  errors.push(...auth.errors);
  values.originAuth = auth.value;
  values.warnings = auth.warnings;
  const placement = parsePlacementSettings(vars);
  if (placement.ok) values.placement = placement.value;
  else errors.push(...placement.errors);
  const forward = parseForwardFields(vars.FORWARD_HEADERS);
  if (forward.ok) values.forwardFields = forward.value;
  else errors.push(...forward.errors);
  const hint = checkLocationHint(vars.RING_LOCATION_HINT);
  if (hint !== null) errors.push(hint);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: values as unknown as Settings };
}
