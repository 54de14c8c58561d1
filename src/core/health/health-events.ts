/**
 * Health events: what changed between the condition last announced for an origin (or for the
 * deployment's panic mode) and the condition now. Comparing with what was announced, instead of
 * watching each transition, makes every change announced exactly once: a round counted twice
 * finds nothing new, and an ejection that simply expires is noticed at the next round. Pure.
 */
import type { AdminState, ProbeStatus } from "../model.ts";
import { isEjected, type HealthRecord } from "./health.ts";

/** What is announced per origin: its probe status and whether passive health keeps it out. */
export interface OriginCondition {
  readonly status: ProbeStatus;
  readonly ejected: boolean;
}

/** The names of health events (a subset of the log's event names). */
export type HealthEventName =
  "origin.up" | "origin.down" | "origin.ejected" | "origin.restored" | "panic.start" | "panic.end";

/** One change, as the log, the audit log and the webhook report it. */
export interface HealthEvent {
  readonly event: HealthEventName;
  /** The origin's id; null for panic mode (it is decided over every active origin). */
  readonly origin: string | null;
  readonly pool: string | null;
  readonly from: string;
  readonly to: string;
  readonly detail: Readonly<Record<string, unknown>>;
  /**
   * False for an origin's first verdict (unknown → up): it took traffic already, so nothing
   * changed for anyone; it is logged, not audited or alerted (a deploy of 1,000 origins would
   * otherwise send 1,000 alerts).
   */
  readonly notable: boolean;
}

/** The condition an origin's health record is in at `now`. */
export function conditionOf(health: HealthRecord, now: number): OriginCondition {
  return { status: health.status, ejected: isEjected(health, now) };
}

/**
 * The events between `before` and `after` for one origin. A status going back to unknown (its
 * URL changed, an admin change already in the audit log) is no event.
 */
export function diffOrigin(
  origin: string,
  pool: string | null,
  before: OriginCondition,
  after: OriginCondition,
  health: HealthRecord,
): HealthEvent[] {
  const events: HealthEvent[] = [];
  const base = { origin, pool };
  if (before.status !== after.status && after.status === "down") {
    events.push({
      ...base,
      event: "origin.down",
      from: before.status,
      to: "down",
      notable: true,
      detail: probe(health),
    });
  } else if (before.status !== after.status && after.status === "up") {
    const notable = before.status === "down";
    events.push({ ...base, event: "origin.up", from: before.status, to: "up", notable, detail: probe(health) });
  }
  if (!before.ejected && after.ejected) {
    const detail = { ejectedUntil: health.ejectedUntil, ejections: health.ejections };
    events.push({ ...base, event: "origin.ejected", from: "in", to: "ejected", notable: true, detail });
  } else if (before.ejected && !after.ejected) {
    const detail = { ejectedUntil: health.ejectedUntil };
    events.push({ ...base, event: "origin.restored", from: "ejected", to: "in", notable: true, detail });
  }
  return events;
}

/** One origin as panic mode sees it. */
export interface PanicMember {
  readonly state: AdminState;
  readonly health: HealthRecord;
}

/** Whether panic mode holds, and the numbers behind it. */
export interface PanicCondition {
  readonly panic: boolean;
  readonly eligible: number;
  readonly active: number;
}

/**
 * Panic mode as core/routing/routing-view.ts decides it: fewer than `percent` % of the active
 * origins eligible. Eligible here is not down and not ejected; the routing view also counts an
 * origin at the very first instant of its slow start (weight 0) as out, which can only keep
 * panic on for one ramp step (250 ms) longer than announced.
 */
export function panicCondition(members: readonly PanicMember[], percent: number, now: number): PanicCondition {
  let active = 0;
  let eligible = 0;
  for (const member of members) {
    if (member.state !== "active") continue;
    active++;
    if (member.health.status !== "down" && !isEjected(member.health, now)) eligible++;
  }
  return { panic: active > 0 && (eligible / active) * 100 < percent, eligible, active };
}

/** The panic event between `before` and `now`, if it changed. */
export function diffPanic(before: boolean, now: PanicCondition, percent: number): HealthEvent | null {
  if (before === now.panic) return null;
  return {
    event: now.panic ? "panic.start" : "panic.end",
    origin: null,
    pool: null,
    from: before ? "panic" : "normal",
    to: now.panic ? "panic" : "normal",
    notable: true,
    detail: { eligible: now.eligible, active: now.active, thresholdPercent: percent },
  };
}

function probe(health: HealthRecord): Record<string, unknown> {
  return { error: health.error, failures: health.failures, latencyMs: health.latencyMs };
}
