/**
 * The status page at `GET {prefix}/`: server-rendered HTML with hono's `html` template (every
 * interpolated value escaped), inline CSS under a per-response nonce, no script and no external
 * asset, so its Content-Security-Policy can forbid everything else. It refreshes itself with a
 * meta refresh. Who may see it is admin/auth.ts's business (STATUS_PUBLIC, token or cookie). The
 * markup is in page/: the shell (document.ts), one file per section, the stylesheet (style.ts).
 *
 * Two kinds of figures, labelled as such: the Durable Object's (health, probes: the same from
 * every isolate) and this isolate's (the routing table it holds and its age, the routing view,
 * request rates, hot client prefixes). Cloudflare runs many isolates per location and many
 * locations; a reload may land on another isolate, with its own counts.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../admin/app-env.ts";
import { SESSION_COOKIE } from "../admin/session.ts";
import { isolateIdentity, isolateTraffic } from "../worker/isolate-traffic.ts";
import { edgeView } from "./edge-view.ts";
import { healthDetail } from "./health-detail.ts";
import { noOriginsBanner } from "./page/banners.ts";
import { renderBody } from "./page/body.ts";
import { renderDocument } from "./page/document.ts";

/** The page handler; mount it behind the status access check: `app.get("/", requireAccess("status", true), statusPage)`. */
export async function statusPage(c: Context<AppEnv>): Promise<Response> {
  const { settings, table: load, now: clock } = c.env.status;
  const [cached, detail, edge] = await Promise.all([
    load(),
    healthDetail(c.env.env, settings.doTimeoutMs),
    edgeView(c.env.env, settings.doTimeoutMs),
  ]);
  const now = clock();
  const nonce = makeNonce();
  c.header("content-security-policy", contentSecurityPolicy(nonce));
  c.header("referrer-policy", "no-referrer");
  c.header("cache-control", "no-store");
  const signedIn = getCookie(c, SESSION_COOKIE) !== undefined;
  const isolate = isolateIdentity(now);
  const body =
    cached === null ? noOriginsBanner() : renderBody(cached, settings, detail, isolateTraffic(now), now, edge);
  return c.html(
    renderDocument(nonce, settings.lbPrefix, signedIn, now, isolate, cached?.table ?? null, body),
    cached === null ? 503 : 200,
  );
}

/** Default-deny; only the inline stylesheet carrying this response's nonce. */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "img-src data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function makeNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}
