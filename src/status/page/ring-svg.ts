/** A pool's ring as SVG: who owns each part of the key space, who serves it now, who moved. */
import { html } from "hono/html";
import { walkRing } from "../../core/ring/ring.ts";
import { pickOrigins } from "../../core/routing/pick-origins.ts";
import { type RoutingTable } from "../../core/routing/routing-table.ts";
import { type RoutingView } from "../../core/routing/routing-view.ts";
import { CATCH_ALL_POOL } from "../../core/model.ts";
import { arcPath, mergeCells, sampleCells, type Arc } from "../../core/status/ring-picture.ts";
import { percent } from "./format.ts";
import type { Markup } from "./markup.ts";
import type { OriginRow } from "./origin-rows.ts";

/** Cells per ring drawing (three rings: at most 1,800 arcs in the SVG). */
export const RING_CELLS = 600;

/** Pool `p`'s ring (one per pool; its members drawn in their table.origins colours). */
export function ringSvg(
  table: RoutingTable,
  view: RoutingView,
  rows: readonly OriginRow[],
  p: number,
  id: string,
): Markup {
  const pool = table.pools[p]!;
  const n = pool.members.length;
  const one = new Uint32Array(1);
  const only = Uint32Array.of(p);
  const everyone = new Float64Array(n).fill(1);
  const owners = sampleCells(RING_CELLS, (key) =>
    walkRing(pool.ring, key, everyone, one) === 1 ? pool.members[one[0]!]! : -1,
  );
  const servers = sampleCells(RING_CELLS, (key) => (pickOrigins(table, view, key, one, only) === 1 ? one[0]! : -1));
  // Where a client is not on the origin that owns it: coloured by who has it now (−2: nothing drawn).
  const moved = servers.map((server, cell) => (server === owners[cell] ? -2 : server));
  const movedShare = moved.filter((m) => m !== -2).length / RING_CELLS;
  const ring = (name: string, arcs: readonly Arc[], radius: number, faded: boolean) => {
    const byMember = new Map<number, Arc[]>();
    for (const arc of arcs) {
      const list = byMember.get(arc.member);
      if (list === undefined) byMember.set(arc.member, [arc]);
      else list.push(arc);
    }
    const paths = [...byMember.entries()]
      .sort(([a], [b]) => a - b)
      .map(([member, list]) => {
        const id = member < 0 ? "" : rows[member]!.id;
        const out = faded && member >= 0 && view.weights[member]! === 0;
        const drawn = list.reduce((sum, arc) => sum + arc.end - arc.start, 0);
        return html`<path
          class="${member < 0 ? "arc none" : `arc o${member}${out ? " out" : ""}`}"
          data-origin="${id}"
          data-arcs="${list.length}"
          d="${arcPath(list, 180, 180, radius)}"
          ><title>${member < 0 ? "no origin" : id}: ${percent(drawn)}</title></path
        >`;
      });
    return html`<g class="${name}" data-arcs="${arcs.length}">${paths}</g>`;
  };
  return html`<svg
    class="ring"
    data-pool="${id}"
    viewBox="0 0 360 360"
    width="360"
    height="360"
    role="img"
    aria-label="The ring: each origin's arcs in its colour"
  >
    <circle cx="180" cy="180" r="112" class="track" />
    ${ring("layout", mergeCells(owners), 164, true)} ${ring("serving", mergeCells(servers), 138, false)}
    ${ring("moved", mergeCells(moved), 112, false)}
    <text x="180" y="170" text-anchor="middle" class="ring-label">
      ${table.pools.length === 1 ? `epoch ${table.epoch}` : id === CATCH_ALL_POOL ? "catch-all" : id}
    </text>
    <text x="180" y="188" text-anchor="middle" class="ring-label small">${n} origins</text>
    <text x="180" y="204" text-anchor="middle" class="ring-label small">${percent(movedShare)} of clients moved</text>
  </svg>`;
}
