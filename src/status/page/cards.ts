/** The summary cards at the top: pools, origins, epoch, snapshot age, probes, requests. */
import { html } from "hono/html";
import { ago, percent, rate, seconds } from "./format.ts";
import type { Markup } from "./markup.ts";
import type { PageData } from "./page-data.ts";

/** The cards section; "this isolate" cards are marked as such. */
export function summaryCards({
  cached,
  table,
  settings,
  view,
  rows,
  detail,
  traffic,
  cache,
  now,
  regional,
}: PageData): Markup {
  const up = rows.filter((r) => r.probe === "up").length;
  const down = rows.filter((r) => r.probe === "down").length;
  const ejected = rows.filter((r) => r.ejectedUntil !== null).length;
  return html`<section class="cards">
    <div class="card">
      <h3>Pools</h3>
      <p class="big">${table.pools.length}</p>
      <p>
        ${
          regional === 0
            ? `One pool of ${rows.length} origins (no REGIONS)`
            : `${regional} regional${table.pools.length > regional ? " + the catch-all" : ""}; steered by request.cf`
        }
      </p>
    </div>
    <div class="card">
      <h3>Origins</h3>
      <p class="big">${view.eligibleCount} <small>of ${rows.length} take traffic</small></p>
      <p>${up} up · ${down} down · ${rows.length - up - down} unknown · ${ejected} ejected</p>
    </div>
    <div class="card">
      <h3>Epoch</h3>
      <p class="big">${table.epoch}</p>
      <p>
        layout epoch ${table.layoutEpoch} ·
        ${table.pools.reduce((sum, pool) => sum + pool.layout.owners.length, 0).toLocaleString("en")} slots
      </p>
    </div>
    <div class="card isolate">
      <h3>Snapshot <span class="scope">this isolate</span></h3>
      <p class="big">${seconds(now - cached.receivedAt)}</p>
      <p>
        old, from the ${cached.source === "bootstrap" ? "bootstrap list" : "Durable Object"} · TTL
        ${seconds(settings.snapshotTtlMs)} · ${cache.refreshes} refreshes, ${cache.locationHits} answered by the
        location cache
      </p>
    </div>
    <div class="card">
      <h3>Probes</h3>
      <p class="big">${detail?.lastRoundAt == null ? "—" : ago(now - detail.lastRoundAt)}</p>
      <p>
        last round · every ${settings.healthIntervalMs > 0 ? seconds(settings.healthIntervalMs) : "cron minute"} · fall
        ${settings.healthFall}, rise ${settings.healthRise}
      </p>
    </div>
    <div class="card isolate">
      <h3>Requests <span class="scope">this isolate</span></h3>
      <p class="big">${rate(traffic.requestsPerSecond)} <small>/s</small></p>
      <p>
        ${rate(traffic.errorsPerSecond)} errors/s
        (${percent(traffic.requests === 0 ? 0 : traffic.errors / traffic.requests)}) over ${traffic.coveredSeconds} s
      </p>
    </div>
  </section>`;
}
