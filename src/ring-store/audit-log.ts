/** The `audit` table: the admin audit log, newest AUDIT_KEEP entries. */
import { AUDIT_KEEP, type AuditEntry } from "./protocol.ts";

/** Appends one entry and deletes the entries beyond the newest AUDIT_KEEP. */
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
  sql.exec("DELETE FROM audit WHERE seq <= (SELECT MAX(seq) FROM audit) - ?", AUDIT_KEEP);
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
