/** The hot prefixes section: the client prefixes sending the most requests to this isolate. */
import { html } from "hono/html";
import { pickOrigins } from "../../core/routing/pick-origins.ts";
import { type RoutingTable } from "../../core/routing/routing-table.ts";
import { type RoutingView } from "../../core/routing/routing-view.ts";
import { DEFAULT_TRAFFIC_OPTIONS, type TrafficSnapshot } from "../../core/status/traffic-stats.ts";
import { percent, plural, seconds } from "./format.ts";
import type { Markup } from "./markup.ts";
import type { PageData } from "./page-data.ts";

/** Hot client prefixes listed (of the k counted). */
const HOT_SHOWN = 10;

/** The hottest client prefixes section, each with the origin it lands on when that is known. */
export function hotPrefixesSection({ traffic, table, view, now, settings }: PageData): Markup {
  return html`<section class="isolate">
    <h2>Hottest client prefixes <span class="scope">this isolate</span></h2>
    ${hotTable(traffic, table, view, now, settings.affinity.kind === "ip" && table.pools.length === 1)}
  </section>`;
}

/** `placed`: a prefix's hash says where it goes (the address is the key and there is one pool). */
function hotTable(
  traffic: TrafficSnapshot,
  table: RoutingTable,
  view: RoutingView,
  now: number,
  placed: boolean,
): Markup {
  const { hot } = traffic;
  if (hot.keys.length === 0) return html`<p>No client requests counted yet.</p>`;
  const one = new Uint32Array(1);
  const k = DEFAULT_TRAFFIC_OPTIONS.topK;
  const shown = hot.keys.slice(0, HOT_SHOWN);
  return html`<p>
      Over the last ${seconds(now - (hot.since ?? now))}: ${hot.requests.toLocaleString("en")} requests with a client
      key, counted with the space-saving algorithm (${k} counters): a prefix sending more than 1/${k} of them is always
      held (highlighted when it certainly did); a count may be too high by at most "±". One prefix far above the rest (a
      NAT gateway, a crawler) puts all its load on one origin.
    </p>
    <table class="hot">
      <thead>
        <tr>
          <th>client prefix</th>
          <th class="num">requests</th>
          <th class="num">±</th>
          <th class="num">share, at least</th>
          <th>served by now</th>
        </tr>
      </thead>
      <tbody>
        ${shown.map((entry) => {
          // With regional pools the origin depends on where the client is, which is not counted, and
          // with another AFFINITY_KEY on what the client sends.
          const origin = placed && pickOrigins(table, view, entry.hash, one) === 1 ? one[0]! : -1;
          return html`<tr${entry.share > 1 / k ? html` class="heavy"` : ""}>
        <td class="mono">${entry.key}</td>
        <td class="num">${entry.count.toLocaleString("en")}</td>
        <td class="num">${entry.overestimate === 0 ? "" : entry.overestimate.toLocaleString("en")}</td>
        <td class="num">${percent(entry.share)}</td>
        <td>${origin < 0 ? "—" : html`<span class="swatch o${origin}">■</span> ${table.origins[origin]!.id}`}</td>
      </tr>`;
        })}
      </tbody>
    </table>
    ${hot.keys.length > shown.length ? html`<p class="note">${hot.keys.length - shown.length} more counters held, none with more than ${plural(shown[shown.length - 1]!.guaranteed, "request")} for certain.</p>` : ""}`;
}
