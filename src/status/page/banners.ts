/** The banners above the cards: what is wrong or degraded right now. */
import { html } from "hono/html";
import type { Markup } from "./markup.ts";
import type { PageData } from "./page-data.ts";

/** The page's whole body when there is no table at all. */
export function noOriginsBanner(): Markup {
  return html`<p class="banner bad">
    No origins configured: ORIGINS is empty or invalid and the Durable Object has none.
  </p>`;
}

/** Panic, nothing eligible, the bootstrap list in use, no Durable Object answer, ORIGINS rejected. */
export function banners({ cached, settings, view, detail, cache }: PageData): Markup[] {
  const list: Markup[] = [];
  if (view.panic)
    list.push(
      html`<p class="banner bad">
        Panic mode: fewer than ${settings.panicPercent} % of the active origins can take traffic, so every active origin
        takes its full share again (health data is more likely wrong than the origins).
      </p>`,
    );
  if (view.eligibleCount === 0) list.push(html`<p class="banner bad">No origin can take traffic: clients get 503.</p>`);
  if (cached.source === "bootstrap")
    list.push(
      html`<p class="banner warn">
        This isolate routes on the bootstrap list (ORIGINS): it has not reached the Durable
        Object${cache.lastError === null ? "" : html` (${cache.lastError})`}.
      </p>`,
    );
  if (detail === null)
    list.push(
      html`<p class="banner warn">
        The Durable Object did not answer within ${settings.doTimeoutMs} ms: probe details are missing; health is this
        isolate's snapshot.
      </p>`,
    );
  if (cached.bootstrapErrors.length > 0)
    list.push(
      html`<p class="banner warn">
        ORIGINS was not applied: ${cached.bootstrapErrors.map((e) => `${e.field} ${e.message}`).join("; ")}.
      </p>`,
    );
  return list;
}
