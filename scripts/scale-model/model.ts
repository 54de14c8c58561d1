/**
 * The scale model's arithmetic: the Durable Object's calls per second from refreshes, reports
 * and probe rounds, derived from what the code does, with the settings' defaults from
 * src/core/config/settings.ts (see scripts/scale-model.ts for the reasoning behind each term).
 */
import v8 from "node:v8";
import { INTEGER_SETTINGS } from "../../src/core/config/settings.ts";
import { UNKNOWN_HEALTH, type OriginRecord } from "../../src/core/model.ts";
import { freshLayout } from "../../src/core/ring/slot-layout.ts";

/** What the model is asked about. */
export interface ScaleInputs {
  readonly locations: number;
  readonly origins: number;
  /** Client requests per second, spread evenly. */
  readonly rps: number;
}

const fallback = (name: string) => {
  const setting = INTEGER_SETTINGS.find((s) => s.name === name);
  if (setting === undefined) throw new Error(`no setting ${name} in src/core/config/settings.ts`);
  return setting.fallback;
};
/** The settings' defaults the model depends on. */
export const D = {
  ttlMs: fallback("SNAPSHOT_TTL_MS"),
  reportIntervalMs: fallback("REPORT_INTERVAL_MS"),
  healthIntervalMs: fallback("HEALTH_INTERVAL_MS"),
  healthFastIntervalMs: fallback("HEALTH_FAST_INTERVAL_MS"),
  healthTimeoutMs: fallback("HEALTH_TIMEOUT_MS"),
  healthFall: fallback("HEALTH_FALL"),
  ejectAfter: fallback("EJECT_AFTER_FAILURES"),
  ejectBaseMs: fallback("EJECT_BASE_MS"),
};
/** wrangler.toml's cron, `* * * * *`. */
export const CRON_PERIOD_S = 60;
/** Cloudflare: one Durable Object serves about 1,000 requests/s before "overloaded" errors (DESIGN.md). */
export const SOFT_LIMIT = 1000;
/** Cloudflare: 6 simultaneous outgoing connections per invocation; more fetches wait (DESIGN.md). */
export const CONNECTIONS = 6;
/** Assumed time for a healthy origin to answer a probe, as in the README's scale table. */
export const PROBE_LATENCY_S = 0.05;
/**
 * Assumed round trip of a Durable Object call from a location far from the object (it lives in
 * one place): how long a location goes on reporting a death after its first report was sent.
 */
export const DO_RTT_S = 0.2;
/** The README's assumption for the headline figure: isolates per location are not published. */
export const ASSUMED_ISOLATES = 20;
/** Refresh calls/s of one isolate serving `rate` requests/s (Poisson): one per TTL + wait for the next request. */
export const refreshRate = (ttlS: number, rate: number) => 1 / (ttlS + 1 / rate);

/** The location's head lives TTL / 2 in whole seconds; under 1 s the location cache is off (location-cache.ts). */
export const headSeconds = (ttlS: number) => Math.floor(ttlS / 2);

/**
 * Refresh calls/s of one location of `k` isolates with the location cache: after the head expires,
 * the next isolate refresh (k per TTL, uniform phases: TTL / k later on average) calls the object,
 * and so does every isolate refreshing while that call is in flight (k × RTT / TTL).
 */
export const locationRefreshRate = (k: number, ttlS: number, rate: number) =>
  (1 + (k * DO_RTT_S) / ttlS) / (headSeconds(ttlS) + ttlS / k + 1 / rate);

/**
 * One origin of `origins` dies. After the first few reports eject it (EJECT_AFTER_FAILURES failures
 * edge-wide: milliseconds at this traffic), an isolate that sends it a request before it knows
 * reports once, and the answer brings the update: one call. Requests reach the dead origin as
 * Poisson arrivals at λ per isolate.
 * - Without the location cache, an isolate knows from its own next refresh (phases uniform over
 *   the TTL): it reports at t with density λ e^(−λt) (1 − t/TTL).
 * - With it, a location knows once its first reporter's answer is back (RTT after it was sent):
 *   the first of its k isolates meets the dead origin at rate kλ, the other k − 1 report only if
 *   they meet it within that RTT; the rest catch up from the location without a call.
 */
export function failureBurst(
  inputs: ScaleInputs,
  isolates: number,
  ttlS: number,
  rps = inputs.rps,
  cached = headSeconds(ttlS) >= 1,
) {
  const lambda = rps / isolates / inputs.origins;
  const bound = isolates / (D.reportIntervalMs / 1000); // every isolate reporting once per interval
  // The dead origin is unsettled: probed every HEALTH_FAST_INTERVAL_MS by a round of its own.
  const fastRounds = 1000 / Math.min(D.healthFastIntervalMs, D.healthIntervalMs);
  if (cached) {
    const k = isolates / inputs.locations;
    const perLocation = 1 + (k - 1) * (1 - Math.exp(-lambda * DO_RTT_S));
    const reports = inputs.locations * (1 - Math.exp(-k * lambda * ttlS)) * perLocation;
    const firstSecond = inputs.locations * (1 - Math.exp(-k * lambda * Math.min(1, ttlS))) * perLocation;
    return { lambda, reports, extraCalls: reports, busiestSecond: firstSecond + fastRounds, bound, cached };
  }
  const density = (t: number) => (t >= ttlS ? 0 : isolates * lambda * Math.exp(-lambda * t) * (1 - t / ttlS));
  const integrate = (a: number, b: number) => {
    const steps = 2000;
    const h = (b - a) / steps;
    let sum = 0;
    for (let i = 0; i < steps; i++) sum += density(a + (i + 0.5) * h) * h;
    return sum;
  };
  const reports = integrate(0, ttlS);
  // The density only falls, so the first second is the busiest.
  return {
    lambda,
    reports,
    extraCalls: reports,
    busiestSecond: integrate(0, Math.min(1, ttlS)) + fastRounds,
    bound,
    cached,
  };
}

/**
 * Alarm-driven probe rounds: the alarm re-arms before its round, so rounds start every interval,
 * except that an alarm firing while a round still runs is skipped (the next one is an interval later).
 */
export function probes(origins: number, blackholed = 0) {
  const duration = ((origins - blackholed) * PROBE_LATENCY_S + blackholed * (D.healthTimeoutMs / 1000)) / CONNECTIONS;
  const interval = D.healthIntervalMs / 1000;
  const period = interval * Math.max(1, Math.ceil(duration / interval));
  return { duration, period, probesPerS: origins / period, callsPerS: 1 / period + 1 / CRON_PERIOD_S };
}

/**
 * Bytes of a refresh answer, V8-serialized as JS RPC sends it, with realistic ids, URLs and health:
 * the origin list (sent when the isolate's epoch is stale) and the slot layout (only when the
 * membership or weights changed: the object keeps it and ships it then).
 */
export function snapshotBytes(origins: number): { list: number; layout: number } {
  const list: OriginRecord[] = Array.from({ length: origins }, (_, i) => ({
    id: `origin-${String(i).padStart(4, "0")}`,
    url: `https://origin-${String(i).padStart(4, "0")}.eu-west.example.com`,
    weight: 1,
    region: "eu-west",
    state: "active",
    drainStartedAt: null,
    health: { ...UNKNOWN_HEALTH, status: "up", recoveredAt: 1_790_000_000_000 },
  }));
  const slots = fallback("RING_SLOTS_PER_ORIGIN");
  const layout = freshLayout(
    list.map((o) => ({ id: o.id, weight: o.weight })),
    slots,
  );
  const update = { epoch: 123_456, origins: list, layoutEpoch: 7, layout: null, bootstrapErrors: [] };
  return {
    list: v8.serialize(update).length,
    layout: v8.serialize({ ...update, layout }).length - v8.serialize(update).length,
  };
}
