/**
 * `GET {prefix}/metrics`: the balancer's metrics in the Prometheus text format (README "Metrics"), for a scraper.
 * Who may read them is admin/auth.ts's business, as for the status JSON (STATUS_PUBLIC or a token): the same figures
 * in another shape, origin URLs left out for the same reason.
 *
 * Health, probes, ejections and call counts are the Durable Object's, read with a deadline (DO_TIMEOUT_MS) so a hung
 * object costs a scrape its edge-wide series, never the scrape; the table, its shares and the traffic counters are
 * those of the isolate that answers, labelled with its name where they differ between isolates.
 */
import type { Context } from "hono";
import type { AppEnv } from "../admin/app-env.ts";
import { balancerMetrics, type MetricsInput, type OriginFigures } from "../core/status/balancer-metrics.ts";
import { formatMetrics, METRICS_CONTENT_TYPE } from "../core/status/metrics-format.ts";
import type { Settings } from "../core/config/settings.ts";
import type { RoutingTable } from "../core/routing/routing-table.ts";
import type { CallCounts } from "../ring-store/protocol.ts";
import type { CachedTable } from "../worker/cached-table.ts";
import { isolateIdentity, isolateTraffic } from "../worker/isolate-traffic.ts";
import { cacheStatus } from "../worker/routing-cache.ts";
import { viewAt } from "../worker/view-cache.ts";
import { callCounts } from "./call-counts.ts";
import { edgeView, type EdgeView } from "./edge-view.ts";
import { edgeMetrics, type EdgeFigures } from "../core/status/edge-metrics.ts";
import { healthDetail, type HealthDetail } from "./health-detail.ts";
import { originRows } from "./page/origin-rows.ts";

/** The metrics handler; mount it behind the status access check: `app.get("/metrics", requireAccess("status"), metrics)`. */
export async function metrics(c: Context<AppEnv>): Promise<Response> {
  const { table: load, now: clock, settings } = c.env.status;
  const [cached, detail, calls, edge] = await Promise.all([
    load(),
    healthDetail(c.env.env, settings.doTimeoutMs),
    callCounts(c.env.env, settings.doTimeoutMs),
    edgeView(c.env.env, settings.doTimeoutMs),
  ]);
  // As the status JSON: no table, nothing to route on; the failed scrape (`up` 0) is the signal.
  if (cached === null) return c.body("no origins configured\n", 503, { "content-type": "text/plain; charset=utf-8" });
  const input = metricsInput(cached, settings, detail, calls, clock());
  const families = [...balancerMetrics(input), ...edgeMetrics(edgeFigures(edge))];
  return c.body(formatMetrics(families), 200, { "content-type": METRICS_CONTENT_TYPE });
}

function metricsInput(
  cached: CachedTable,
  settings: Settings,
  detail: HealthDetail | null,
  calls: CallCounts | null,
  now: number,
): MetricsInput {
  const { table } = cached;
  const view = viewAt(table, settings, now);
  // The page's rows: the Durable Object's health record where there is one, else the snapshot's.
  const rows = originRows(cached, view, detail, now);
  const records = new Map(detail?.origins.map((o) => [o.id, o.health]));
  const { pool, slots } = poolSlots(table);
  const origins = rows.map((row): OriginFigures => {
    const record = records.get(row.id);
    return {
      id: row.id,
      pool: pool[row.index]!,
      weight: row.weight,
      state: table.origins[row.index]!.state,
      health: row.probe as OriginFigures["health"],
      ejected: row.ejectedUntil !== null,
      ejections: record?.ejections ?? null,
      passiveFailures: row.passiveFailures,
      latencyMs: row.latencyMs,
      lastProbeAt: row.lastProbeAt,
      slots: slots[row.index]!,
      share: row.share,
      traffic: row.takes,
      serving: row.serving,
    };
  });
  const identity = isolateIdentity(now);
  const { totals } = isolateTraffic(now);
  const cache = cacheStatus();
  return {
    epoch: table.epoch,
    layoutEpoch: table.layoutEpoch,
    panic: view.panic,
    eligible: view.eligibleCount,
    pools: table.pools.map((p, i) => ({ id: p.id, slots: p.layout.owners.length, eligible: view.poolEligible[i]! })),
    origins,
    durableObjectUp: detail !== null,
    lastProbeRoundAt: detail?.lastRoundAt ?? null,
    calls: calls === null ? null : Object.fromEntries(Object.entries(calls)),
    isolate: {
      id: identity.id,
      startedAt: identity.since,
      requests: totals.requests,
      errors: totals.errors,
      refreshes: cache.refreshes,
      locationHits: cache.locationHits,
      refreshFailing: cache.lastError !== null,
      snapshotAgeMs: now - cached.receivedAt,
      source: cached.source,
    },
  };
}

/** Each origin's pool id and slot count, by table index (the slots it owns in its pool's layout). */
function poolSlots(table: RoutingTable): { readonly pool: string[]; readonly slots: number[] } {
  const pool = new Array<string>(table.origins.length).fill("");
  const slots = new Array<number>(table.origins.length).fill(0);
  for (const p of table.pools) {
    // Layout owners index the layout's ids, which are the ring members (both sorted by id).
    const index = new Map(p.layout.ids.map((id, m) => [id, m]));
    const counts = new Array<number>(p.layout.ids.length).fill(0);
    for (const owner of p.layout.owners) counts[owner]!++;
    p.ring.ids.forEach((id, m) => {
      const origin = p.members[m]!;
      pool[origin] = p.id;
      slots[origin] = counts[index.get(id)!] ?? 0;
    });
  }
  return { pool, slots };
}

/** The edge view's figures for the metrics (placements counted by kind, never listed). */
function edgeFigures(edge: EdgeView | null): EdgeFigures | null {
  if (edge === null) return null;
  const placed = [
    ...edge.keys.filter((k) => k.placedOn !== null),
    ...edge.otherPlacements.map((p) => ({ split: p.targets.length > 1, manual: p.manual })),
  ];
  return {
    coveredSeconds: edge.coveredMs / 1000,
    reports: edge.reports,
    origins: edge.origins.map((o) => ({
      id: o.id,
      requestsPerSecond: o.requestsPerSecond,
      errorsPerSecond: o.errorsPerSecond,
      bound: o.bound,
    })),
    placements: {
      manual: placed.filter((p) => p.manual).length,
      split: placed.filter((p) => !p.manual && p.split).length,
      moved: placed.filter((p) => !p.manual && !p.split).length,
    },
    withinBound: edge.withinBound,
  };
}
