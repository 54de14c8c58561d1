/**
 * The Load-aware placement section: the edge-wide request and error rates per origin with the
 * bound, and the hot keys with where each is placed, split or not, and since when. The Durable
 * Object's figures (every isolate's reports), unlike the isolate's own Traffic section.
 */
import { html } from "hono/html";
import type { EdgeView } from "../edge-view.ts";
import { ago, percent, rate, seconds } from "./format.ts";
import type { Markup } from "./markup.ts";

/** The section, or a line saying why there is nothing to show. */
export function placementSection(edge: EdgeView | null, now: number): Markup {
  if (edge === null) {
    return html`<section>
      <h2>Load-aware placement <span class="scope">edge-wide</span></h2>
      <p>The Durable Object did not answer: no edge-wide figures.</p>
    </section>`;
  }
  const bound =
    edge.boundFactor === 0 ? "off (LOAD_BOUND_FACTOR = 0)" : `${edge.boundFactor} × each pool's mean per unit weight`;
  const verdict = edge.withinBound === null ? "no plan yet" : edge.withinBound ? "every origin within it" : "NOT met";
  return html`<section>
    <h2>Load-aware placement <span class="scope">edge-wide</span></h2>
    <p>
      Bound: ${bound}; ${verdict}. Rates over the last ${seconds(edge.coveredMs)} of
      ${edge.reports.toLocaleString("en")} reports; last plan
      ${edge.plannedAt === null ? "not yet" : ago(now - edge.plannedAt)}.
    </p>
    <table>
      <thead>
        <tr>
          <th>origin</th>
          <th>requests/s</th>
          <th>errors/s</th>
          <th>planned/s</th>
          <th>bound/s</th>
        </tr>
      </thead>
      <tbody>
        ${edge.origins.map(
          (o) =>
            html`<tr class="${o.bound !== null && o.requestsPerSecond > o.bound ? "warn" : ""}">
              <td>${o.id}</td>
              <td>${rate(o.requestsPerSecond)}</td>
              <td>${rate(o.errorsPerSecond)}</td>
              <td>${o.plannedPerSecond === null ? "–" : rate(o.plannedPerSecond)}</td>
              <td>${o.bound === null ? "–" : rate(o.bound)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <table>
      <thead>
        <tr>
          <th>hot key</th>
          <th>share</th>
          <th>users</th>
          <th>placed on</th>
          <th>decided</th>
        </tr>
      </thead>
      <tbody>
        ${edge.keys.map(
          (k) =>
            html`<tr>
              <td><code>${k.key}</code></td>
              <td>${percent(k.share)}</td>
              <td>${k.users === 0 ? "–" : `≈ ${k.users}`}</td>
              <td>${placedOn(k.placedOn, k.split, k.manual)}</td>
              <td>${k.decidedAt === null ? "–" : ago(now - k.decidedAt)}</td>
            </tr>`,
        )}
        ${edge.otherPlacements.map(
          (p) =>
            html`<tr>
              <td><code>${p.key}</code></td>
              <td>–</td>
              <td>–</td>
              <td>${placedOn(p.targets, p.targets.length > 1, p.manual)}</td>
              <td>${ago(now - p.decidedAt)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function placedOn(
  targets: readonly { readonly origin: string; readonly weight: number }[] | null,
  split: boolean,
  manual: boolean,
): string {
  if (targets === null) return "its ring primary";
  const where = split
    ? `split: ${targets.map((t) => `${t.origin} ${percent(t.weight)}`).join(", ")}`
    : `moved to ${targets[0]?.origin ?? "?"}`;
  return manual ? `${where} (pinned)` : where;
}
