/** The page's body: the figures computed once, then the sections in page order. */
import { html } from "hono/html";
import type { Settings } from "../../core/config/settings.ts";
import { CATCH_ALL_POOL } from "../../core/model.ts";
import type { TrafficSnapshot } from "../../core/status/traffic-stats.ts";
import type { CachedTable } from "../../worker/cached-table.ts";
import { cacheStatus } from "../../worker/routing-cache.ts";
import { viewAt } from "../../worker/view-cache.ts";
import type { HealthDetail } from "../health-detail.ts";
import { banners } from "./banners.ts";
import { summaryCards } from "./cards.ts";
import { hotPrefixesSection } from "./hot-prefixes.ts";
import type { Markup } from "./markup.ts";
import { originRows } from "./origin-rows.ts";
import { originsSection } from "./origins-table.ts";
import type { EdgeView } from "../edge-view.ts";
import { placementSection } from "./placement-section.ts";
import type { PageData } from "./page-data.ts";
import { poolsSection } from "./pools-table.ts";
import { ringSection } from "./ring-section.ts";
import { trafficSection } from "./traffic-section.ts";

/** Banners, cards, pools, ring, origins, then this isolate's traffic and hot prefixes side by side. */
export function renderBody(
  cached: CachedTable,
  settings: Settings,
  detail: HealthDetail | null,
  traffic: TrafficSnapshot,
  now: number,
  edge: EdgeView | null = null,
): Markup {
  const { table } = cached;
  const view = viewAt(table, settings, now);
  const page: PageData = {
    cached,
    table,
    settings,
    view,
    rows: originRows(cached, view, detail, now),
    detail,
    traffic,
    cache: cacheStatus(),
    now,
    regional: table.pools.filter((pool) => pool.id !== CATCH_ALL_POOL).length,
  };
  return html`${banners(page)} ${summaryCards(page)} ${poolsSection(page)} ${ringSection(page)} ${originsSection(page)}
    ${placementSection(edge, now)}
    <div class="columns">${trafficSection(page)} ${hotPrefixesSection(page)}</div>`;
}
