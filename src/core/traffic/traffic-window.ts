/**
 * The edge-wide traffic view the ring's Durable Object keeps: validated reports (traffic-report.ts)
 * added into a sliding window of buckets, read as rates per origin and per hot key.
 *
 * Memory: `buckets` × (origins + keysMax) entries, whatever the client traffic or the number of
 * reporters (6 × (1,000 + 64) at the largest). A report is filed in the bucket of the time the
 * object received it, by the object's own clock: a reporter's clock is neither trusted nor needed.
 *
 * Staleness: a count reaches the view one report interval after its request at most (the reporter
 * sends what it counted since its last report), plus the roll-up interval when a location
 * aggregates first. The rates then average what the live buckets hold: the last windowMs − bucketMs
 * to windowMs of arrivals, divided by the time that traffic really spans (from the start of the
 * earliest report span in them). A change in traffic is half-visible after about windowMs / 2 and
 * fully after windowMs + the report interval; the planner holds a placement for one window for
 * that reason.
 *
 * Deterministic: the same reports filed at the same times give the same view; the per-origin sums
 * are order-independent, the key table is so up to its stated floor (key-table.ts).
 */
import { addKeyCounts, addKeyTable, createKeyTable, keyCounts, type KeyTable } from "./key-table.ts";
import type { TrafficReport } from "./traffic-report.ts";
import { estimateUsers } from "./user-bits.ts";

/** Buckets per window: a bucket leaves the window whole, so this sets how smoothly it slides. */
export const TRAFFIC_BUCKETS = 6;

/** The window's shape. */
export interface WindowOptions {
  /** TRAFFIC_WINDOW_MS: how far back the rates look. */
  readonly windowMs: number;
  /** HOT_KEYS_MAX: hot keys kept per bucket and in the view. */
  readonly keysMax: number;
}

interface Bucket {
  /** Start of the bucket's span (a multiple of bucketMs); −1 when unused. */
  start: number;
  /** Where the traffic of its reports began (received − span, the earliest): what the rates divide from. */
  from: number;
  requests: number;
  /** Per origin id: [requests, errors]. */
  readonly origins: Map<string, [number, number]>;
  keys: KeyTable;
}

/** The window (Durable Object memory; rebuilt empty when the object restarts). */
export interface TrafficWindow {
  readonly windowMs: number;
  readonly bucketMs: number;
  readonly keysMax: number;
  readonly buckets: Bucket[];
  /** Reports merged since the window was created (validation is the caller's). */
  reports: number;
}

/** The edge-wide view of one origin. */
export interface OriginRate {
  readonly id: string;
  readonly requests: number;
  readonly errors: number;
  readonly requestsPerSecond: number;
  readonly errorsPerSecond: number;
}

/** The edge-wide view of one hot key. */
export interface KeyRate {
  readonly key: string;
  readonly hash: number;
  /** Requests counted over the window: at least the truth, at most `overestimate` above it. */
  readonly count: number;
  readonly overestimate: number;
  /** Guaranteed requests per second ((count − overestimate) / covered seconds): the planner's figure. */
  readonly rate: number;
  /** Its guaranteed share of the keyed requests. */
  readonly share: number;
  /** Estimated distinct users behind it (user-bits.ts); 0 when nobody counted them. */
  readonly users: number;
}

/** What the planner and the status page read. */
export interface TrafficView {
  readonly at: number;
  readonly windowMs: number;
  /** Milliseconds the rates divide by: from the start of the oldest counted report span (0 before any report). */
  readonly coveredMs: number;
  readonly reports: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** Sorted by id. */
  readonly origins: readonly OriginRate[];
  /** Sorted by guaranteed count, at most keysMax. */
  readonly keys: readonly KeyRate[];
  /** Requests per second that a key not listed may have sent at most (the table's floor). */
  readonly keyFloorRate: number;
}

/** An empty window of TRAFFIC_BUCKETS buckets. */
export function createTrafficWindow(options: WindowOptions): TrafficWindow {
  const windowMs = Math.max(TRAFFIC_BUCKETS, Math.floor(options.windowMs));
  const bucketMs = Math.ceil(windowMs / TRAFFIC_BUCKETS);
  const keysMax = Math.max(1, Math.floor(options.keysMax));
  const buckets = Array.from({ length: TRAFFIC_BUCKETS }, (): Bucket => ({
    start: -1,
    from: Number.NaN,
    requests: 0,
    origins: new Map(),
    keys: createKeyTable(keysMax),
  }));
  return { windowMs: bucketMs * TRAFFIC_BUCKETS, bucketMs, keysMax, buckets, reports: 0 };
}

/** Adds a validated report received at `now` (the object's clock). */
export function mergeTrafficReport(window: TrafficWindow, report: TrafficReport, now: number): void {
  const start = Math.floor(now / window.bucketMs) * window.bucketMs;
  const bucket = window.buckets[Math.floor(now / window.bucketMs) % TRAFFIC_BUCKETS]!;
  if (bucket.start !== start) {
    // A bucket holding a later span means the clock went back by a whole window: not counted.
    if (bucket.start > start) return;
    bucket.start = start;
    bucket.from = Number.NaN;
    bucket.requests = 0;
    bucket.origins.clear();
    bucket.keys = createKeyTable(window.keysMax);
  }
  const from = now - Math.min(report.spanMs, window.windowMs);
  if (!(bucket.from <= from)) bucket.from = from;
  window.reports++;
  bucket.requests += report.requests;
  for (const { id, requests, errors } of report.origins) {
    const entry = bucket.origins.get(id);
    if (entry === undefined) bucket.origins.set(id, [requests, errors]);
    else {
      entry[0] += requests;
      entry[1] += errors;
    }
  }
  addKeyCounts(bucket.keys, report.keys);
}

/** The view at `now`: the buckets whose span began within the window. */
export function trafficView(window: TrafficWindow, now: number): TrafficView {
  const live = window.buckets
    .filter((b) => b.start >= 0 && b.start <= now && now - b.start < window.windowMs)
    .sort((a, b) => a.start - b.start);
  // The counts cover the traffic since the earliest report span began, which is up to one report
  // span before the oldest bucket; at least one bucket's length, so a single report of a short span
  // does not read as a huge rate.
  const from = Math.min(...live.map((b) => b.from));
  const coveredMs = live.length === 0 ? 0 : Math.min(2 * window.windowMs, Math.max(window.bucketMs, now - from));
  const seconds = coveredMs / 1000;
  const perSecond = (n: number) => (seconds > 0 ? n / seconds : 0);
  const origins = new Map<string, [number, number]>();
  const keys = createKeyTable(window.keysMax);
  let requests = 0;
  for (const bucket of live) {
    requests += bucket.requests;
    for (const [id, [r, e]] of bucket.origins) {
      const entry = origins.get(id);
      if (entry === undefined) origins.set(id, [r, e]);
      else {
        entry[0] += r;
        entry[1] += e;
      }
    }
    addKeyTable(keys, bucket.keys);
  }
  return {
    at: now,
    windowMs: window.windowMs,
    coveredMs,
    reports: window.reports,
    requests,
    requestsPerSecond: perSecond(requests),
    origins: [...origins]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, [r, e]]) => ({
        id,
        requests: r,
        errors: e,
        requestsPerSecond: perSecond(r),
        errorsPerSecond: perSecond(e),
      })),
    keys: keyCounts(keys).map(({ key, hash, count, overestimate, userBits = 0 }) => ({
      key,
      hash,
      count,
      overestimate,
      rate: perSecond(count - overestimate),
      share: requests > 0 ? (count - overestimate) / requests : 0,
      users: estimateUsers(userBits),
    })),
    keyFloorRate: perSecond(keys.floor),
  };
}
