/** The Traffic section: this isolate's requests and errors per second over the window. */
import { html } from "hono/html";
import type { TrafficSnapshot } from "../../core/status/traffic-stats.ts";
import type { Markup } from "./markup.ts";
import type { PageData } from "./page-data.ts";

/** The Traffic section, with its sparkline. */
export function trafficSection({ traffic }: PageData): Markup {
  return html`<section class="isolate">
    <h2>Traffic <span class="scope">this isolate</span></h2>
    <p>
      ${traffic.requests.toLocaleString("en")} requests and ${traffic.errors.toLocaleString("en")} errors (status ≥ 500:
      origins' and the balancer's own) in the last ${traffic.coveredSeconds} s; per second, newest right:
    </p>
    ${sparkline(traffic)}
  </section>`;
}

function sparkline(traffic: TrafficSnapshot): Markup {
  const { requests, errors } = traffic.series;
  const width = 600;
  const height = 64;
  const bar = width / requests.length;
  const peak = Math.max(1, ...requests);
  const bars = (values: readonly number[]) =>
    values
      .map((v, i) => {
        if (v === 0) return "";
        const h = Math.max(1, (v / peak) * (height - 4));
        return `M${(i * bar + 0.5).toFixed(1)} ${height}v${(-h).toFixed(1)}h${(bar - 1).toFixed(1)}v${h.toFixed(1)}z`;
      })
      .join("");
  return html`<svg
    class="spark"
    viewBox="0 0 ${width} ${height}"
    width="${width}"
    height="${height}"
    role="img"
    aria-label="Requests and errors per second, last ${requests.length} s"
  >
    <path class="requests" d="${bars(requests)}" />
    <path class="errors" d="${bars(errors)}" />
    <text x="4" y="12" class="small">peak ${peak}/s</text>
  </svg>`;
}
