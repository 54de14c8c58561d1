/**
 * Revoked status-page sessions (`POST {prefix}/logout`): a session cookie is an HMAC the Worker
 * checks without state, so ending one before it expires needs a list of the ended ones. A row
 * lives until the session would have expired anyway; rows past that are purged on every write, so
 * the table holds at most the sessions logged out within SESSION_MAX_AGE_S.
 */

/** Most rows kept: a flood of logouts (each needs a valid session) cannot grow the table past this. */
const MAX_REVOKED_SESSIONS = 10_000;

/** Records that session `sid` ended; `expiresAt` (ms) is when its cookie would have expired. */
export function revokeSession(sql: SqlStorage, sid: string, expiresAt: number, now: number): void {
  sql.exec("DELETE FROM revoked_sessions WHERE expires_at <= ?", now);
  sql.exec("INSERT OR REPLACE INTO revoked_sessions (sid, expires_at) VALUES (?, ?)", sid, expiresAt);
  sql.exec(
    `DELETE FROM revoked_sessions WHERE sid NOT IN
       (SELECT sid FROM revoked_sessions ORDER BY expires_at DESC LIMIT ?)`,
    MAX_REVOKED_SESSIONS,
  );
}

/** True when session `sid` was logged out. */
export function isSessionRevoked(sql: SqlStorage, sid: string): boolean {
  return sql.exec("SELECT 1 FROM revoked_sessions WHERE sid = ?", sid).toArray().length > 0;
}
