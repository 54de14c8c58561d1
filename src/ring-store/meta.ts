/**
 * The `meta` table: one text value per key (the epoch, the layouts' epoch, the last round, the
 * bootstrap fingerprints, the default region, the schema's migration id). Owns its SQL.
 */

/** The value stored under `key`, or null. */
export function readMeta(sql: SqlStorage, key: string): string | null {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
  return row?.value ?? null;
}

/** Stores `value` under `key`, replacing what was there. */
export function writeMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    key,
    value,
  );
}

/** Removes `key`. */
export function deleteMeta(sql: SqlStorage, key: string): void {
  sql.exec("DELETE FROM meta WHERE key = ?", key);
}

/** The routing epoch: bumped by every routing-relevant write (0 before the first). */
export function readEpoch(sql: SqlStorage): number {
  return Number(readMeta(sql, "epoch") ?? "0");
}

/** Adds one to the epoch (the object's bumpEpoch also drops its cached snapshot). */
export function incrementEpoch(sql: SqlStorage): void {
  writeMeta(sql, "epoch", String(readEpoch(sql) + 1));
}
