/**
 * Passive health: the isolates' batched traffic reports merged into the origins' health records
 * (core/health/health.ts applyReport ejects an origin that keeps failing client requests). The
 * object announces the ejections after the merge, in the same transaction (health-announcer.ts).
 */
import { pickHealthSettings } from "../core/health/health-settings.ts";
import { isEjected, type HealthSettings } from "../core/health/health.ts";
import { applyReport, validateReport } from "../core/health/passive-health.ts";
import { announceHealth } from "./health-announcer.ts";
import { readHealth, readOriginRows, writeHealth } from "./origin-rows.ts";
import type { ReportEntry } from "./protocol.ts";
import type { StoreHost } from "./store-host.ts";

/**
 * Merges one report in one transaction; when routing changed, bumps the epoch and announces the
 * ejections (log line, audit entry, alert) with it. Returns how many alerts were queued.
 */
export function applyTrafficReport(host: StoreHost, entries: readonly ReportEntry[], now: number): number {
  const settings = host.settings;
  if (settings === null) return 0;
  return host.storage.transactionSync(() => {
    if (!mergeReport(host.storage.sql, entries, pickHealthSettings(settings), now)) return 0;
    host.bumpEpoch();
    return announceHealth(host, now);
  });
}

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
    // Counted here so the shared budget holds within one report; announced by health-announcer.ts.
    if (!isEjected(before, now) && isEjected(result.health, now)) ejectedNow++;
    writeHealth(sql, row.id, result.health);
    changed = result.changed || changed;
  }
  return changed;
}
