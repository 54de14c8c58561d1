/**
 * The per-origin health state machine the Durable Object runs. Active probes move an origin
 * between up and down (HAProxy's `rise` / `fall`); failure reports from the isolates eject it for
 * a while (Envoy's outlier detection). Pure: every event carries its own time, nothing throws.
 */
import type { HealthView, ProbeStatus } from "../model.ts";

/** Tunables of the state machine (README "Health" lists defaults: rise 2, fall 3, K 5, base 30 s, max 300 s, 10 %). */
export interface HealthSettings {
  /** Consecutive passing probes that bring a down origin up. */
  readonly rise: number;
  /** Consecutive failing probes that take an origin down. */
  readonly fall: number;
  /** K: consecutive failed client requests (merged over the edge) that eject. */
  readonly ejectAfter: number;
  /** The first ejection lasts this long; the n-th lasts n × base ... */
  readonly ejectBaseMs: number;
  /** ... capped here. */
  readonly ejectMaxMs: number;
  /** At most this share of origins ejected at once (at least one always may be). */
  readonly ejectMaxPercent: number;
  /**
   * A run of failures older than this is forgotten. Isolates report only when they saw failures
   * (that keeps the object's load near zero while all is well), so the successes of silent
   * isolates never arrive to break a run: time has to.
   */
  readonly ejectWindowMs: number;
  /**
   * Distinct client addresses whose requests must be among the failures before an ejection: one
   * client sending requests that fail (a path its origin answers with 503) must not be able to
   * take the origin out, and so move every other client on it.
   */
  readonly ejectMinClients: number;
}

/** The defaults, taken from HAProxy's `check` and Envoy's outlier detection (sources on each line). */
export const DEFAULT_HEALTH_SETTINGS: HealthSettings = {
  rise: 2, // HAProxy `server ... check`: "rise <count> ... default 2"
  fall: 3, // HAProxy: "fall <count> ... default 3"
  ejectAfter: 5, // Envoy outlier_detection.consecutive_5xx: default 5
  ejectBaseMs: 30_000, // Envoy base_ejection_time: default 30s, multiplied by the times ejected
  ejectMaxMs: 300_000, // Envoy max_ejection_time: default 300s
  ejectMaxPercent: 10, // Envoy max_ejection_percent: default 10, "will eject at least one host regardless"
  ejectWindowMs: 10_000, // ours: Envoy counts per proxy and sees every success, so it needs none
  ejectMinClients: 3, // ours: Envoy trusts its own clients; ours are anyone on the internet
};

/** What the Durable Object stores per origin. */
export interface HealthRecord {
  readonly status: ProbeStatus;
  /** Consecutive passing probes. */
  readonly passes: number;
  /** Consecutive failing probes. */
  readonly failures: number;
  readonly lastProbeAt: number | null;
  /** Of the last probe. */
  readonly latencyMs: number | null;
  /** Of the last failing probe; null after a pass. */
  readonly error: string | null;
  /** Consecutive failed client requests, merged over isolates. */
  readonly passiveFailures: number;
  /** Hashes of the client addresses among the run's failures (distinct, at most MAX_REPORT_CLIENTS). */
  readonly failingClients?: readonly number[];
  /** When the last failure report arrived (the run expires ejectWindowMs after it). */
  readonly lastFailureReportAt?: number | null;
  readonly ejectedUntil: number | null;
  /** Ejections in the current streak (drives base × n). */
  readonly ejections: number;
  /** See HealthView.recoveredAt. */
  readonly recoveredAt: number | null;
  /**
   * True for an origin that joined a running pool and has not yet passed HEALTH_RISE probes: it is
   * kept out of the slot layouts until then (AWAITING_PROBES).
   */
  readonly awaiting?: boolean;
}

/** The record of an origin nobody has probed or reported on yet. */
export const INITIAL_HEALTH: HealthRecord = {
  status: "unknown",
  passes: 0,
  failures: 0,
  lastProbeAt: null,
  latencyMs: null,
  error: null,
  passiveFailures: 0,
  ejectedUntil: null,
  ejections: 0,
  recoveredAt: null,
};

/**
 * The record of an origin that joins a running pool (added through the admin API or by an edited
 * ORIGINS): down, and out of the slot layouts, until HEALTH_RISE probes pass. So an origin on a
 * dead port never takes its share, and nobody moves until it can serve: then its slots are laid
 * out (the clients that move, move once, to it) and slow start brings them over SLOW_START_MS.
 * Only the first seed of an empty object starts its origins `unknown` (eligible at once):
 * refusing every request until the first probe round would be worse than trusting the
 * configuration.
 */
export const AWAITING_PROBES: HealthRecord = {
  ...INITIAL_HEALTH,
  status: "down",
  error: "awaiting its first passing probes",
  awaiting: true,
};

/** True while the origin waits for its first HEALTH_RISE passing probes (kept out of the layouts). */
export function isAwaiting(health: HealthRecord): boolean {
  return health.awaiting === true;
}

/** One probe's outcome. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly at: number;
  readonly latencyMs: number | null;
  readonly error: string | null;
}

/** The result of applying an event: the new record, and whether the routing-relevant view changed (the DO bumps the epoch then). */
export interface HealthChange {
  readonly health: HealthRecord;
  readonly changed: boolean;
}

/** Applies one probe result: rise / fall for the status; a pass also ends an ejection early. */
export function applyProbe(health: HealthRecord, result: ProbeResult, settings: HealthSettings): HealthChange {
  const at = result.at;
  if (!isTime(at)) return { health, changed: false };
  const latencyMs = isTime(result.latencyMs) ? result.latencyMs : null;
  let next: HealthRecord;
  if (result.ok) {
    next = { ...health, passes: health.passes + 1, failures: 0, lastProbeAt: at, latencyMs, error: null };
    if (isEjected(health, at)) {
      // The probe is direct evidence that the origin answers again; the ejection was only a guess
      // from client failures, so it ends now, and slow start runs from here.
      next = { ...next, ejectedUntil: at, recoveredAt: at, passiveFailures: 0 };
    }
    if (health.status === "unknown") {
      // An unknown origin was eligible already (README: eligible until the first verdict), so
      // nothing ramps: recoveredAt stays as it is.
      next = { ...next, status: "up" };
    } else if (health.status === "down" && next.passes >= threshold(settings.rise)) {
      next = { ...next, status: "up", passes: 0, failures: 0, recoveredAt: at, awaiting: false };
    }
  } else {
    next = {
      ...health,
      passes: 0,
      failures: health.failures + 1,
      lastProbeAt: at,
      latencyMs,
      error: result.error ?? "probe failed",
    };
    if (health.status !== "down" && next.failures >= threshold(settings.fall)) next = { ...next, status: "down" };
  }
  return { health: next, changed: !sameView(health, next) };
}

/**
 * Settled: up with no failing probe in its streak. Every other origin (unknown, down, or up but
 * failing) is probed at HEALTH_FAST_INTERVAL_MS, as HAProxy's `fastinter` / `downinter` do, so a
 * verdict takes rise or fall fast probes instead of whole intervals.
 */
export function isSettled(health: HealthRecord): boolean {
  return health.status === "up" && health.failures === 0;
}

/** The fast probe interval in force: HEALTH_FAST_INTERVAL_MS, at most HEALTH_INTERVAL_MS; 0 = off. */
export function fastInterval(intervalMs: number, fastIntervalMs: number): number {
  return intervalMs > 0 && fastIntervalMs > 0 ? Math.min(intervalMs, fastIntervalMs) : 0;
}

/** Whether passive health keeps the origin out at `now`. */
export function isEjected(health: HealthRecord, now: number): boolean {
  return health.ejectedUntil !== null && now < health.ejectedUntil;
}

/**
 * The routing-relevant part of a record. An ejection that simply expires changes nothing here:
 * isolates read `ejectedUntil` and route to the origin again from then, with slow start running
 * from max(recoveredAt, ejectedUntil) (the routing layer computes that).
 */
export function toView(health: HealthRecord): HealthView {
  return { status: health.status, ejectedUntil: health.ejectedUntil, recoveredAt: health.recoveredAt };
}

export function isTime(value: number | null): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

// Settings are validated where they are parsed; these only keep a bad value from producing NaN
// times or a threshold that can never be reached.
export function threshold(value: number): number {
  return value >= 1 ? value : 1;
}

export function nonNegative(value: number): number {
  return value >= 0 ? value : 0;
}

export function sameView(a: HealthRecord, b: HealthRecord): boolean {
  return a.status === b.status && a.ejectedUntil === b.ejectedUntil && a.recoveredAt === b.recoveredAt;
}
