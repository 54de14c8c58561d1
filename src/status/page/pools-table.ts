/** The pools table: each pool, whom it serves first, its origins and how many take traffic. */
import { html } from "hono/html";
import { CATCH_ALL_POOL } from "../../core/model.ts";
import type { Markup } from "./markup.ts";
import type { PageData } from "./page-data.ts";

/** The Pools section (one row per pool, the catch-all last). */
export function poolsSection({ table, view, regional }: PageData): Markup {
  return html`<section>
    <h2>Pools</h2>
    <table>
      <thead>
        <tr>
          <th>pool</th>
          <th>serves first</th>
          <th class="num">origins</th>
          <th class="num">take traffic</th>
          <th class="num">slots</th>
        </tr>
      </thead>
      <tbody>
        ${table.pools.map((pool, p) => {
          const region = table.regions.find((r) => r.id === pool.id);
          const serves =
            pool.id === CATCH_ALL_POOL
              ? regional === 0
                ? "every client"
                : "after every region (origins without a declared region)"
              : [...(region?.countries ?? []), ...(region?.continents ?? [])].join(", ") || "by distance";
          return html`<tr data-pool="${pool.id}">
            <td>${pool.id === CATCH_ALL_POOL ? (regional === 0 ? "default (all origins)" : "catch-all") : pool.id}</td>
            <td>${serves}</td>
            <td class="num">${pool.members.length}</td>
            <td class="num${view.poolEligible[p] === 0 ? " bad-text" : ""}">${view.poolEligible[p]}</td>
            <td class="num">${pool.layout.owners.length.toLocaleString("en")}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </section>`;
}
