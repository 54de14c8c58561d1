/**
 * The isolate's side of the edge-wide view: counts since the last report, per origin and per hot
 * client key, handed over as one bounded TrafficReport and started afresh. The status page's
 * counters (core/status/traffic-stats.ts) show rates over a sliding window; a report needs deltas,
 * so this keeps its own space-saving counter (the same code, one generation per report interval)
 * and drops it when the report is taken.
 *
 * Memory is bounded by the origins and topK, never by clients: one entry per origin that answered,
 * k key counters and the fixed users sketch (32 KiB). Pure: the clock is a parameter.
 */
import type { ClientKey } from "../key/client-key.ts";
import { addUser, clearUserSketch, createUserSketch, usersOf, type UserSketch } from "./user-bits.ts";
import { createTrafficStats, recordTraffic, trafficSnapshot, type TrafficStats } from "../status/traffic-stats.ts";
import {
  MAX_REPORT_KEYS,
  MAX_REPORT_ORIGINS,
  MAX_REPORT_SPAN_MS,
  TRAFFIC_REPORT_VERSION,
  type TrafficReport,
} from "./traffic-report.ts";

/** Hot keys an isolate counts per report (the status counter's 20). */
export const REPORT_TOP_K = 20;

/** Counts since the last report (module scope in the Worker). */
export interface ReportCounter {
  readonly topK: number;
  /** When counting started (ms since the Unix epoch); NaN until the first request. */
  startedAt: number;
  /** Per origin id: [requests, errors]. */
  readonly origins: Map<string, [number, number]>;
  keys: TrafficStats;
  /** The users behind every key (user-bits.ts). */
  readonly users: UserSketch;
}

/** An empty counter; `topK` is capped at MAX_REPORT_KEYS so its reports always validate. */
export function createReportCounter(topK: number = REPORT_TOP_K): ReportCounter {
  const k = Math.max(1, Math.min(MAX_REPORT_KEYS, Math.floor(topK)));
  return { topK: k, startedAt: Number.NaN, origins: new Map(), keys: freshKeys(k), users: createUserSketch() };
}

// The generation must outlast any report interval, else the counter would rotate and forget half
// of its keys before the report is taken: one generation of the longest span a report may cover.
function freshKeys(k: number): TrafficStats {
  return createTrafficStats({ windowSeconds: Math.ceil(MAX_REPORT_SPAN_MS / 1000) + 1, topK: k });
}

/**
 * Counts one client request: the origin that answered it (null when none did: no eligible origin,
 * refused before routing), its final status, the client key it was routed by with its hash, and a
 * hash of what tells its user apart from others behind the same key (null when not counted).
 */
export function countForReport(
  counter: ReportCounter,
  originId: string | null,
  key: ClientKey | null,
  keyHash: number,
  status: number,
  now: number,
  userHash: number | null = null,
): void {
  if (counter.startedAt !== counter.startedAt) counter.startedAt = now;
  if (originId !== null) {
    let entry = counter.origins.get(originId);
    // Origin ids come from the snapshot, so this map never outgrows the configured origins; the cap
    // only keeps a report valid if a caller passed something else.
    if (entry === undefined && counter.origins.size < MAX_REPORT_ORIGINS) {
      entry = [0, 0];
      counter.origins.set(originId, entry);
    }
    if (entry !== undefined) {
      entry[0]++;
      if (status >= 500) entry[1]++;
    }
  }
  recordTraffic(counter.keys, key, keyHash, status, now);
  if (key !== null && userHash !== null) addUser(counter.users, keyHash, userHash);
}

/** True when the counter has counted nothing since it was created or last taken. */
export function isEmptyCounter(counter: ReportCounter): boolean {
  return counter.startedAt !== counter.startedAt;
}

/**
 * The report of everything counted since the last one, or null when nothing was; the counter
 * starts afresh either way. Origins are sorted by id and keys by count, so equal counts give
 * byte-identical reports.
 */
export function takeReport(counter: ReportCounter, source: string, now: number): TrafficReport | null {
  if (isEmptyCounter(counter)) return null;
  const hot = trafficSnapshot(counter.keys, now).hot;
  const spanMs = Math.min(MAX_REPORT_SPAN_MS, Math.max(1, now - counter.startedAt));
  const origins = [...counter.origins]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, [requests, errors]]) => ({ id, requests, errors }));
  const report: TrafficReport = {
    version: TRAFFIC_REPORT_VERSION,
    source,
    spanMs,
    requests: hot.requests,
    origins,
    keys: hot.keys.map(({ key, hash, count, overestimate }) => ({
      key,
      hash,
      count,
      overestimate,
      userBits: usersOf(counter.users, hash),
    })),
  };
  counter.startedAt = Number.NaN;
  counter.origins.clear();
  clearUserSketch(counter.users);
  counter.keys = freshKeys(counter.topK);
  return report;
}
