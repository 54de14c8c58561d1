/**
 * The `audit` table: the admin audit log. State toggles (drain, disable, enable) are kept apart
 * from configuration changes (add, update, remove, regions, bootstrap): each kind keeps its newest
 * AUDIT_KEEP entries, so a thousand toggles cannot flush the record of who changed the origin set.
 */
import { AUDIT_KEEP, type AuditEntry } from "./protocol.ts";

/** The actions that are state toggles; every other action is a configuration change. */
const TOGGLES = ["set-state"];

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
  const toggle = TOGGLES.includes(action);
  const kind = `action ${toggle ? "IN" : "NOT IN"} (${TOGGLES.map(() => "?").join(", ")})`;
  sql.exec(
    `DELETE FROM audit WHERE ${kind} AND seq NOT IN (SELECT seq FROM audit WHERE ${kind} ORDER BY seq DESC LIMIT ?)`,
    ...TOGGLES,
    ...TOGGLES,
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
