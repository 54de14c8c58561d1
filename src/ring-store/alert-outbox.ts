/**
 * The `alert_outbox` table: alerts written in the same transaction as the health change they
 * report, and deleted once delivered or abandoned. Writing the alert with the change is what
 * makes it one alert per change: a change is committed once, and a restart finds what is left.
 */

/** The JSON body the webhook receives (README "Logs and alerts"). */
export interface AlertBody {
  /** The change's id: unique per object, so a receiver can drop a delivery it saw already. */
  readonly id: number;
  readonly event: string;
  readonly origin: string | null;
  readonly pool: string | null;
  readonly from: string;
  readonly to: string;
  /** ISO time of the change. */
  readonly at: string;
  readonly epoch: number;
  readonly detail: unknown;
}

/** One pending alert. */
export interface PendingAlert {
  readonly id: number;
  readonly body: AlertBody;
  /** Attempts made so far. */
  readonly attempts: number;
  /** When the next attempt is due (ms, wall clock). */
  readonly nextAt: number;
}

/** Queues an alert (its id is assigned here, so the body is completed after the insert); due at once. */
export function enqueueAlert(sql: SqlStorage, body: Omit<AlertBody, "id">, now: number): number {
  sql.exec("INSERT INTO alert_outbox (body, attempts, next_at) VALUES ('{}', 0, ?)", now);
  const id = sql.exec<{ id: number }>("SELECT last_insert_rowid() AS id").one().id;
  sql.exec("UPDATE alert_outbox SET body = ? WHERE id = ?", JSON.stringify({ id, ...body }), id);
  return id;
}

/** Pending alerts, oldest first. */
export function readPending(sql: SqlStorage): PendingAlert[] {
  return sql
    .exec<{ id: number; body: string; attempts: number; next_at: number }>(
      "SELECT id, body, attempts, next_at FROM alert_outbox ORDER BY id",
    )
    .toArray()
    .map((row) => ({
      id: row.id,
      body: JSON.parse(row.body) as AlertBody,
      attempts: row.attempts,
      nextAt: row.next_at,
    }));
}

/** Records a failed attempt and when the next one is due. */
export function recordAttempt(sql: SqlStorage, id: number, attempts: number, nextAt: number, error: string): void {
  sql.exec(
    "UPDATE alert_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
    attempts,
    nextAt,
    error,
    id,
  );
}

/** Removes a delivered or abandoned alert. */
export function deleteAlert(sql: SqlStorage, id: number): void {
  sql.exec("DELETE FROM alert_outbox WHERE id = ?", id);
}
