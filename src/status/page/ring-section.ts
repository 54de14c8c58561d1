/** The Ring section: each pool's ring drawn three ways, the legend and what the rings mean. */
import { html } from "hono/html";
import type { Markup } from "./markup.ts";
import type { PageData } from "./page-data.ts";
import { legend } from "./ring-legend.ts";
import { RING_CELLS, ringSvg } from "./ring-svg.ts";

/** The rings (one per pool) beside the legend. */
export function ringSection({ table, view, rows }: PageData): Markup {
  return html`<section class="ring-section">
    <h2>Ring</h2>
    <div class="ring-layout">
      <div class="rings">${table.pools.map((pool, p) => ringSvg(table, view, rows, p, pool.id))}</div>
      <div>
        ${legend(rows)}
        <p class="note">
          The key space clockwise from 12 o'clock, drawn as ${RING_CELLS} samples of the
          ${table.pools.length === 1 ? `${table.layout.owners.length.toLocaleString("en")}-slot` : "each pool's"} table
          (adjacent slots have pseudo-random owners, hence the fine grain). Outer ring: who owns each part (the slot
          layout; faded: takes no traffic now). Middle ring: who serves those clients now, as this isolate routes: a
          down, ejected, draining or disabled origin is skipped and each of its clients goes to its own ring successor.
          Inner ring: only the clients away from their owner, in the colour of the origin that has them.
        </p>
      </div>
    </div>
  </section>`;
}
