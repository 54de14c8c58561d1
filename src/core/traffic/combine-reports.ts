/**
 * A location's roll-up: the reports of its isolates added into one report of the same bounded
 * shape, so the ring's object hears from each location once per interval instead of from every
 * isolate (its load then grows with locations / interval, not with isolates or requests).
 */
import { addKeyCounts, createKeyTable, keyCounts } from "./key-table.ts";
import {
  MAX_REPORT_KEYS,
  MAX_REPORT_ORIGINS,
  MAX_REPORT_SPAN_MS,
  TRAFFIC_REPORT_VERSION,
  type TrafficReport,
} from "./traffic-report.ts";

/**
 * One report carrying the sums of `reports` (validated ones): requests and errors per origin added,
 * hot keys added and trimmed to MAX_REPORT_KEYS, the longest span. Null when there is nothing.
 */
export function combineReports(reports: readonly TrafficReport[], source: string): TrafficReport | null {
  if (reports.length === 0) return null;
  const origins = new Map<string, [number, number]>();
  const keys = createKeyTable(MAX_REPORT_KEYS);
  let requests = 0;
  let spanMs = 1;
  for (const report of reports) {
    requests += report.requests;
    spanMs = Math.max(spanMs, report.spanMs);
    for (const { id, requests: r, errors: e } of report.origins) {
      const entry = origins.get(id);
      if (entry !== undefined) {
        entry[0] += r;
        entry[1] += e;
      } else if (origins.size < MAX_REPORT_ORIGINS) origins.set(id, [r, e]);
    }
    addKeyCounts(keys, report.keys);
  }
  return {
    version: TRAFFIC_REPORT_VERSION,
    source,
    spanMs: Math.min(spanMs, MAX_REPORT_SPAN_MS),
    requests,
    origins: [...origins]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, [r, e]]) => ({ id, requests: r, errors: e })),
    keys: keyCounts(keys),
  };
}
