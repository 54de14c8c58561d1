/** What every section of the status page is drawn from (one render's figures). */
import type { Settings } from "../../core/config/settings.ts";
import type { RoutingTable } from "../../core/routing/routing-table.ts";
import type { RoutingView } from "../../core/routing/routing-view.ts";
import type { TrafficSnapshot } from "../../core/status/traffic-stats.ts";
import type { CachedTable } from "../../worker/cached-table.ts";
import type { cacheStatus } from "../../worker/routing-cache.ts";
import type { HealthDetail } from "../health-detail.ts";
import type { OriginRow } from "./origin-rows.ts";

/** One render's inputs and the figures derived from them once. */
export interface PageData {
  readonly cached: CachedTable;
  readonly table: RoutingTable;
  readonly settings: Settings;
  readonly view: RoutingView;
  readonly rows: readonly OriginRow[];
  /** The Durable Object's health records, or null when it did not answer. */
  readonly detail: HealthDetail | null;
  readonly traffic: TrafficSnapshot;
  readonly cache: ReturnType<typeof cacheStatus>;
  readonly now: number;
  /** Regional pools (the catch-all not counted). */
  readonly regional: number;
}
