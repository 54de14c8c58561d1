/**
 * Passive health: the isolates' failure reports merged into an origin's record, and the ejection
 * they may cause (Envoy's outlier detection, with a shared budget and the distinct-clients rule,
 * so that one client cannot take an origin out). Pure: every report carries its own time.
 */
import {
  isEjected,
  isTime,
  nonNegative,
  sameView,
  threshold,
  type HealthChange,
  type HealthRecord,
  type HealthSettings,
} from "./health.ts";

/** What one isolate saw of one origin since its last report. */
export interface TrafficReport {
  readonly successes: number;
  readonly failures: number;
  /** Failures after the isolate's last success (all of them when there was none). */
  readonly trailingFailures: number;
  /** Hashes (32-bit) of the client addresses behind the trailing failures: distinct, at most MAX_REPORT_CLIENTS. */
  readonly clients: readonly number[];
}

/** How many origins are ejected now, out of how many active ones (the ejection budget is shared). */
export interface EjectionBudget {
  readonly ejectedNow: number;
  readonly total: number;
}

/** Largest count one report may carry; it also caps the merged count, so sums stay exact integers. */
export const MAX_REPORT_COUNT = 1e9;

/** Most client hashes one report or record holds: enough for EJECT_MIN_CLIENTS (at most 16). */
export const MAX_REPORT_CLIENTS = 16;

/** Merges one isolate's failure report; ejects (Envoy-style backoff, shared budget) after K consecutive failures. */
export function applyReport(
  health: HealthRecord,
  report: TrafficReport,
  settings: HealthSettings,
  now: number,
  budget: EjectionBudget,
): HealthChange {
  if (!isTime(now) || validateReport(report) === null) return { health, changed: false };
  // Requests that were in flight when the origin went down or was ejected fail too; they describe
  // the outage already acted on, so counting them would only extend it.
  if (health.status === "down" || isEjected(health, now)) return { health, changed: false };
  // A success anywhere breaks the run: only the failures after this isolate's last success are
  // still consecutive. Reports arrive one by one, so "consecutive" is over their arrival order.
  const last = health.lastFailureReportAt ?? null;
  const expired = last !== null && now - last > nonNegative(settings.ejectWindowMs);
  const prior = expired ? 0 : health.passiveFailures;
  const fresh = report.successes > 0;
  const passiveFailures = fresh ? report.trailingFailures : Math.min(prior + report.failures, MAX_REPORT_COUNT);
  const failingClients = union(fresh || expired ? [] : (health.failingClients ?? []), report.clients);
  const withCount = {
    ...health,
    passiveFailures,
    failingClients,
    lastFailureReportAt: report.failures > 0 ? now : last,
  };
  if (passiveFailures < threshold(settings.ejectAfter)) return { health: withCount, changed: false };
  if (failingClients.length < threshold(settings.ejectMinClients)) return { health: withCount, changed: false };
  // Without budget the count is kept: a later report ejects once another ejection has ended.
  if (!(budget.ejectedNow < maxEjected(budget.total, settings.ejectMaxPercent))) {
    return { health: withCount, changed: false };
  }
  const baseMs = nonNegative(settings.ejectBaseMs);
  const maxMs = nonNegative(settings.ejectMaxMs);
  // An origin that stayed in for longer than the longest ejection has earned a fresh start;
  // otherwise each ejection of the streak lasts one base longer (Envoy: base × times ejected).
  const quiet = health.ejectedUntil === null || now - health.ejectedUntil > maxMs;
  const ejections = (quiet ? 0 : health.ejections) + 1;
  const next = {
    ...withCount,
    passiveFailures: 0,
    failingClients: [],
    ejections,
    ejectedUntil: now + Math.min(baseMs * ejections, maxMs),
  };
  return { health: next, changed: !sameView(health, next) };
}

/** How many origins may be ejected at once: `percent` of `total`, rounded down, but at least one (Envoy); 0 of none. */
export function maxEjected(total: number, percent: number): number {
  if (!(total > 0)) return 0;
  const share = Math.floor((total * nonNegative(percent)) / 100);
  return Math.max(1, share);
}

/**
 * Checks a report from an isolate (never trusted): non-negative integers up to 1e9,
 * trailingFailures ≤ failures, and at most MAX_REPORT_CLIENTS client hashes (32-bit integers;
 * a report without them, from an older Worker, names no client).
 */
export function validateReport(value: unknown): TrafficReport | null {
  if (typeof value !== "object" || value === null) return null;
  const { successes, failures, trailingFailures, clients = [] } = value as Record<string, unknown>;
  if (!isCount(successes) || !isCount(failures) || !isCount(trailingFailures)) return null;
  if (trailingFailures > failures) return null;
  if (!Array.isArray(clients) || clients.length > MAX_REPORT_CLIENTS || !clients.every(isHash)) return null;
  return { successes, failures, trailingFailures, clients: union([], clients as number[]) };
}

/** The distinct hashes of both lists, at most MAX_REPORT_CLIENTS (the first ones kept). */
function union(a: readonly number[], b: readonly number[]): number[] {
  const out = [...a];
  for (const hash of b) {
    if (out.length >= MAX_REPORT_CLIENTS) break;
    if (!out.includes(hash)) out.push(hash);
  }
  return out;
}

function isHash(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xffff_ffff;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_REPORT_COUNT;
}
