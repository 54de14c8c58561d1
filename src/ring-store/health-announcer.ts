/**
 * Announces health changes: compares every origin's condition (and panic mode) with what was last
 * announced (the `health_announced` table, meta "panic"), and for each change writes one log
 * line, one audit entry (action "health", actor "health") and, when alerts are on, one alert in
 * the outbox. Runs inside the transaction that changed the health records, so a change and its
 * announcement are committed together, once.
 */
import {
  conditionOf,
  diffOrigin,
  diffPanic,
  panicCondition,
  type HealthEvent,
  type OriginCondition,
  type PanicMember,
} from "../core/health/health-events.ts";
import type { AdminState, ProbeStatus } from "../core/model.ts";
import { enqueueAlert } from "./alert-outbox.ts";
import { appendAudit } from "./audit-log.ts";
import { readEpoch, readMeta, writeMeta } from "./meta.ts";
import { readHealth, readOriginRows } from "./origin-rows.ts";
import type { StoreHost } from "./store-host.ts";

/** Most alerts waiting at once: beyond it a change is still logged and audited, its alert dropped (logged). */
const MAX_PENDING_ALERTS = 1_000;

/** Announces what changed since the last call at `now`; returns how many alerts were queued. Call inside a transaction. */
export function announceHealth(host: StoreHost, now: number): number {
  // Without settings nothing is probed or merged, and the panic threshold is unknown.
  if (host.settings === null) return 0;
  const sql = host.storage.sql;
  const rows = readOriginRows(sql);
  const announced = readAnnounced(sql);
  const events: HealthEvent[] = [];
  const members: PanicMember[] = [];
  for (const row of rows) {
    const health = readHealth(row);
    members.push({ state: row.state as AdminState, health });
    const before = announced.get(row.id);
    announced.delete(row.id);
    const after = conditionOf(health, now);
    if (before !== undefined && before.status === after.status && before.ejected === after.ejected) continue;
    // First seen (a new origin, or an object upgraded to this schema): its condition is where
    // announcements start from, not a change.
    if (before !== undefined) events.push(...diffOrigin(row.id, row.region, before, after, health));
    writeAnnounced(sql, row.id, after);
  }
  // What is left belongs to removed origins: forgotten, so an id added again starts afresh.
  for (const id of announced.keys()) sql.exec("DELETE FROM health_announced WHERE id = ?", id);
  const percent = host.settings.panicPercent;
  const panic = panicCondition(members, percent, now);
  const stored = readMeta(sql, "panic");
  const panicEvent = stored === null ? null : diffPanic(stored === "1", panic, percent);
  if (panicEvent !== null) events.push(panicEvent);
  if (stored === null || panicEvent !== null) writeMeta(sql, "panic", panic.panic ? "1" : "0");
  if (events.length === 0) return 0;
  const epoch = readEpoch(sql);
  let queued = 0;
  let pending = host.alertsEnabled() ? countPending(sql) : 0;
  for (const event of events) {
    const { notable, ...fields } = event;
    const level = event.event === "origin.down" || event.event === "origin.ejected" || event.event === "panic.start";
    host.log({ ...fields, level: level ? "warn" : "info", epoch }, now);
    if (!notable) continue;
    appendAudit(sql, now, epoch, "health", fields, "health");
    if (!host.alertsEnabled()) continue;
    if (pending >= MAX_PENDING_ALERTS) {
      host.log(
        { event: "alert.failed", level: "error", change: event.event, origin: event.origin, reason: "outbox full" },
        now,
      );
      continue;
    }
    const { detail, origin, pool, from, to } = fields;
    enqueueAlert(
      sql,
      { event: event.event, origin, pool, from, to, at: new Date(now).toISOString(), epoch, detail },
      Date.now(),
    );
    pending++;
    queued++;
  }
  return queued;
}

function readAnnounced(sql: SqlStorage): Map<string, OriginCondition> {
  const rows = sql
    .exec<{ id: string; status: string; ejected: number }>("SELECT id, status, ejected FROM health_announced")
    .toArray();
  return new Map(rows.map((row) => [row.id, { status: row.status as ProbeStatus, ejected: row.ejected === 1 }]));
}

function writeAnnounced(sql: SqlStorage, id: string, condition: OriginCondition): void {
  sql.exec(
    `INSERT INTO health_announced (id, status, ejected) VALUES (?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET status = excluded.status, ejected = excluded.ejected`,
    id,
    condition.status,
    condition.ejected ? 1 : 0,
  );
}

function countPending(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM alert_outbox").one().n;
}
