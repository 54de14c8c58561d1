/** The legend beside the rings: each origin's colour, the share it owns and the share it serves now. */
import { html } from "hono/html";
import { percent } from "./format.ts";
import type { Markup } from "./markup.ts";
import type { OriginRow } from "./origin-rows.ts";

/** Legend entries beside the ring; the origins table lists every origin with its colour. */
const LEGEND_MAX = 24;

/** The first LEGEND_MAX origins with bars for their shares (faded: owns but takes nothing now). */
export function legend(rows: readonly OriginRow[]): Markup {
  const shown = rows.slice(0, LEGEND_MAX);
  const widest = Math.max(0.01, ...shown.map((r) => Math.max(r.share, r.serving)));
  const bar = (r: OriginRow, value: number, faded: boolean) =>
    html`<svg class="bar" width="150" height="10" aria-hidden="true">
      <rect
        class="o${r.index}${faded ? " out" : ""}"
        width="${Math.round((value / widest) * 1500) / 10}"
        height="10"
        rx="2"
      />
    </svg>`;
  return html`<table class="legend">
    <thead>
      <tr>
        <th>origin</th>
        <th>owns (slot layout)</th>
        <th class="num"></th>
        <th>serves now <span class="scope">this isolate</span></th>
        <th class="num"></th>
      </tr>
    </thead>
    <tbody>
      ${shown.map(
        (r) =>
          html`<tr>
            <td><span class="swatch o${r.index}">■</span> <strong>${r.id}</strong></td>
            <td>${bar(r, r.share, r.takes === 0)}</td>
            <td class="num">${percent(r.share)}</td>
            <td>${bar(r, r.serving, false)}</td>
            <td class="num${r.serving === 0 ? " bad-text" : ""}">${percent(r.serving)}</td>
          </tr>`,
      )}
      ${
        rows.length > shown.length
          ? html`<tr>
              <td colspan="5">… and ${rows.length - shown.length} more (see Origins)</td>
            </tr>`
          : ""
      }
    </tbody>
  </table>`;
}
