/** The Origins section: every origin with its state, health, probe, weight and shares. */
import { html } from "hono/html";
import { ago, percent, seconds } from "./format.ts";
import type { Markup } from "./markup.ts";
import { SERVING_SAMPLES, type OriginRow } from "./origin-rows.ts";
import type { PageData } from "./page-data.ts";

/** The Origins section (one row per origin, in table order). */
export function originsSection({ rows, now }: PageData): Markup {
  return html`<section>
    <h2>Origins</h2>
    ${originTable(rows, now)}
  </section>`;
}

function originTable(rows: readonly OriginRow[], now: number): Markup {
  return html`<table class="origins">
      <thead>
        <tr>
          <th>origin</th>
          <th>region</th>
          <th>state</th>
          <th>health</th>
          <th>ejection</th>
          <th>last probe</th>
          <th class="num">latency</th>
          <th>error</th>
          <th class="num">weight</th>
          <th class="num">share of key space</th>
          <th class="num">takes now <span class="scope">this isolate</span></th>
          <th class="num">serves now ≈</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            html`<tr data-origin="${r.id}" data-health="${r.probe}" data-state="${r.state}">
              <td><span class="swatch o${r.index}">■</span> ${r.id}</td>
              <td>${r.region ?? "—"}</td>
              <td>
                <span class="badge ${r.state}">${r.state}</span
                >${r.state === "draining" && r.drainStartedAt !== null ? html` <small>since ${ago(now - r.drainStartedAt)}</small>` : ""}
              </td>
              <td class="health">
                <span class="badge ${r.probe}">${r.probe}</span
                >${r.passiveFailures ? html` <small>${r.passiveFailures} failed requests in a row</small>` : ""}
              </td>
              <td>
                ${r.ejectedUntil === null ? "—" : html`<span class="badge ejected">ejected</span> <small>for ${seconds(r.ejectedUntil - now)}</small>`}
              </td>
              <td>${r.lastProbeAt === null ? "—" : ago(now - r.lastProbeAt)}</td>
              <td class="num">${r.latencyMs === null ? "—" : `${Math.round(r.latencyMs)} ms`}</td>
              <td class="error">${r.error ?? ""}</td>
              <td class="num">${r.weight}</td>
              <td class="num">${percent(r.share)}</td>
              <td class="num">${percent(r.takes)}</td>
              <td class="num">${percent(r.serving)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <p class="note">
      "Takes now": the share of its own clients an origin takes at this instant (0 when down, ejected or disabled;
      ramping during slow start and drain). "Serves now": the share of all clients it serves, its successors' included,
      sampled over ${SERVING_SAMPLES.toLocaleString("en")} keys.
    </p>`;
}
