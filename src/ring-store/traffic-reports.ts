/**
 * Passive health: the isolates' batched traffic reports merged into the origins' health records
 * (core/health/health.ts applyReport ejects an origin that keeps failing client requests).
 */
import { applyReport, isEjected, validateReport, type HealthSettings } from "../core/health/health.ts";
import { readHealth, readOriginRows, writeHealth } from "./origin-rows.ts";
import type { ReportEntry } from "./protocol.ts";

/**
 * Merges one isolate's report; true if routing changed. Bounded input: at most one entry per
 * origin, validated; unknown ids are ignored. Call inside a transaction.
 */
export function mergeReport(
  sql: SqlStorage,
  entries: readonly ReportEntry[],
  settings: HealthSettings,
  now: number,
): boolean {
  const rows = readOriginRows(sql);
  const active = rows.filter((row) => row.state === "active");
  let ejectedNow = active.filter((row) => isEjected(readHealth(row), now)).length;
  const byId = new Map(rows.map((row) => [row.id, row]));
  let changed = false;
  for (const entry of entries.slice(0, rows.length)) {
    const row = typeof entry?.id === "string" ? byId.get(entry.id) : undefined;
    const report = validateReport(entry);
    if (row === undefined || report === null) continue;
    const before = readHealth(row);
    const result = applyReport(before, report, settings, now, { ejectedNow, total: active.length });
    if (!isEjected(before, now) && isEjected(result.health, now)) {
      ejectedNow++;
      console.warn(`origin ${row.id} ejected until ${new Date(result.health.ejectedUntil!).toISOString()}`);
    }
    writeHealth(sql, row.id, result.health);
    changed = result.changed || changed;
  }
  return changed;
}
