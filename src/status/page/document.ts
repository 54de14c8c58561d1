/**
 * The page's shell: the document, its head (the stylesheet under the response's nonce, the meta
 * refresh), the header with the JSON link and sign-out, and the footer saying what "this isolate"
 * means. The sections go in as `body`.
 */
import { html, raw } from "hono/html";
import type { RoutingTable } from "../../core/routing/routing-table.ts";
import { ago } from "./format.ts";
import type { Markup } from "./markup.ts";
import { originColour, STYLE } from "./style.ts";

/** Seconds between refreshes. */
export const REFRESH_SECONDS = 5;

/** The whole page around `body`; `table` gives the origins their colour classes (none without a table). */
export function renderDocument(
  nonce: string,
  prefix: string,
  signedIn: boolean,
  now: number,
  isolate: { readonly id: string; readonly since: number },
  table: RoutingTable | null,
  body: Markup,
): Markup {
  // Raw text inside <style> (entities are not decoded there): only this constant sheet and colours
  // computed from indices go in, never a value from outside.
  const swatches = (table?.origins ?? []).map((_, i) => `.o${i}{color:${originColour(i)}}`).join("");
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <meta http-equiv="refresh" content="${REFRESH_SECONDS}" />
        <title>edge-affinity-lb · status</title>
        <link rel="icon" href="data:," />
        <style nonce="${nonce}">
          ${raw(STYLE + swatches)}
        </style>
      </head>
      <body>
        <header>
          <h1>edge-affinity-lb <span>status</span></h1>
          <p class="meta">
            ${new Date(now).toISOString().replace("T", " ").slice(0, 19)} UTC · refreshes every ${REFRESH_SECONDS} s ·
            <a href="${prefix}/status">JSON</a>${
              signedIn
                ? html` ·
                    <form method="post" action="${prefix}/logout"><button type="submit">Sign out</button></form>`
                : ""
            }
          </p>
        </header>
        <main>${body}</main>
        <footer>
          <p>
            Figures marked <span class="scope">this isolate</span> come from the one Worker isolate that served this
            page (<span class="mono" data-isolate="${isolate.id}">${isolate.id}</span>, first seen
            ${ago(now - isolate.since)}): Cloudflare runs many per location, each with its own routing table (refreshed
            every SNAPSHOT_TTL_MS) and its own counts, so a reload may show another. Health, probes and ejections come
            from the ring's Durable Object and are the same everywhere.
          </p>
        </footer>
      </body>
    </html> `;
}
