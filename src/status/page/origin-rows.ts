/**
 * One row per origin, the figures every section of the page draws from: its state and health
 * (the Durable Object's record where there is one), its share of the key space and the share it
 * serves now as this isolate routes.
 */
import { layoutShares } from "../../core/ring/slot-layout.ts";
import { pickOrigins } from "../../core/routing/pick-origins.ts";
import { type RoutingTable } from "../../core/routing/routing-table.ts";
import { type RoutingView } from "../../core/routing/routing-view.ts";
import { cellKey } from "../../core/status/ring-picture.ts";
import type { CachedTable } from "../../worker/cached-table.ts";
import type { HealthDetail } from "../health-detail.ts";

/** Keys sampled to estimate the share each origin serves now (standard error ≤ 0.4 points). */
export const SERVING_SAMPLES = 16_384;

/** An origin as the page shows it. */
export interface OriginRow {
  readonly index: number;
  readonly id: string;
  readonly region: string | null;
  readonly weight: number;
  readonly state: string;
  readonly probe: string;
  readonly ejectedUntil: number | null;
  readonly drainStartedAt: number | null;
  readonly lastProbeAt: number | null;
  readonly latencyMs: number | null;
  readonly error: string | null;
  readonly passiveFailures: number | null;
  /** Share of the key space its slots cover. */
  readonly share: number;
  /** The share of its own clients it takes now (0–1). */
  readonly takes: number;
  /** Share of the key space it serves now (sampled). */
  readonly serving: number;
}

/** The rows of `cached`'s origins, in table order, under `view` at `now`. */
export function originRows(
  cached: CachedTable,
  view: RoutingView,
  detail: HealthDetail | null,
  now: number,
): OriginRow[] {
  const { table } = cached;
  // Shares of the key space are per pool: each origin's slots over its own pool's table.
  const shares = layoutShares(table.pools.map((pool) => pool.layout));
  const serving = servingCounts(table, view);
  const records = new Map(detail?.origins.map((o) => [o.id, o.health]));
  return table.origins.map((origin, index) => {
    const record = records.get(origin.id);
    // The Durable Object's record is fresher than the isolate's snapshot (at most SNAPSHOT_TTL_MS old).
    const probe = record?.status ?? origin.health.status;
    const ejectedUntil = record?.ejectedUntil ?? origin.health.ejectedUntil;
    return {
      index,
      id: origin.id,
      region: origin.region,
      weight: origin.weight,
      state: origin.state,
      probe,
      ejectedUntil: ejectedUntil !== null && ejectedUntil > now ? ejectedUntil : null,
      drainStartedAt: origin.drainStartedAt,
      lastProbeAt: record?.lastProbeAt ?? null,
      latencyMs: record?.latencyMs ?? null,
      error: record?.error ?? null,
      passiveFailures: record?.passiveFailures ?? null,
      share: shares.get(origin.id) ?? 0,
      takes: view.weights[index]!,
      serving: serving[index]! / SERVING_SAMPLES,
    };
  });
}

// The sampled counts depend on the table and its view alone, and viewAt hands out the same view
// object until the table changes or the view expires: sampled once per view, not on every render.
const servingByView = new WeakMap<RoutingView, { readonly table: RoutingTable; readonly counts: readonly number[] }>();

/** Of SERVING_SAMPLES keys per pool, how many each origin (by table index) serves under `view`. */
function servingCounts(table: RoutingTable, view: RoutingView): readonly number[] {
  const held = servingByView.get(view);
  if (held !== undefined && held.table === table) return held.counts;
  // Serving shares are per pool too: each pool's clients sampled on that pool alone (where a
  // pool's clients go when it has no eligible origin depends on where they are, which this page
  // does not know).
  const serving = new Array<number>(table.origins.length).fill(0);
  const out = new Uint32Array(1);
  table.pools.forEach((_pool, p) => {
    const only = Uint32Array.of(p);
    for (let i = 0; i < SERVING_SAMPLES; i++) {
      if (pickOrigins(table, view, cellKey(i, SERVING_SAMPLES), out, only) === 1) serving[out[0]!]!++;
    }
  });
  servingByView.set(view, { table, counts: serving });
  return serving;
}
