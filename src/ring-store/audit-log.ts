/**
 * The `audit` table: the admin audit log, and what happened without an admin (health events and
 * alert deliveries). Three kinds are kept apart: state toggles (drain, disable, enable), health
 * (origin up / down / ejected / restored, panic, alerts) and configuration changes (add, update,
 * remove, regions, bootstrap). Each kind keeps its newest AUDIT_KEEP entries, so neither a
 * thousand toggles nor a flapping origin can flush the record of who changed the origin set.
 */
import { AUDIT_KEEP, type AuditEntry } from "./protocol.ts";

/** The actions of each kind that is not configuration; every other action is a configuration change. */
const KINDS: readonly (readonly string[])[] = [["set-state"], ["health", "alert"]];
const LISTED = KINDS.flat();

/** Appends one entry and deletes the entries of its kind beyond the newest AUDIT_KEEP. */
export function appendAudit(
  sql: SqlStorage,
  at: number,
  epoch: number,
  action: string,
  detail: unknown,
  actor: string | null,
): void {
  sql.exec(
    "INSERT INTO audit (at, epoch, action, detail, actor) VALUES (?, ?, ?, ?, ?)",
    at,
    epoch,
    action,
    JSON.stringify(detail),
    actor,
  );
  const own = KINDS.find((actions) => actions.includes(action));
  const actions = own ?? LISTED;
  const kind = `action ${own === undefined ? "NOT IN" : "IN"} (${actions.map(() => "?").join(", ")})`;
  sql.exec(
    `DELETE FROM audit WHERE ${kind} AND seq NOT IN (SELECT seq FROM audit WHERE ${kind} ORDER BY seq DESC LIMIT ?)`,
    ...actions,
    ...actions,
    AUDIT_KEEP,
  );
}

/** The newest entries first, at most `limit` (1 to AUDIT_KEEP); `before` pages back by sequence number. */
export function readAudit(sql: SqlStorage, limit: number, before: number | null): AuditEntry[] {
  const rows = sql
    .exec<{ seq: number; at: number; epoch: number; action: string; detail: string; actor: string | null }>(
      "SELECT seq, at, epoch, action, detail, actor FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?",
      before ?? Number.MAX_SAFE_INTEGER,
      Math.max(1, Math.min(AUDIT_KEEP, Math.floor(limit))),
    )
    .toArray();
  return rows.map((row) => ({ ...row, detail: JSON.parse(row.detail) as unknown }));
}
