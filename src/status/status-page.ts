/**
 * The status page at `GET {prefix}/`: server-rendered HTML with hono's `html` template (every
 * interpolated value escaped), inline CSS under a per-response nonce, no script and no external
 * asset, so its Content-Security-Policy can forbid everything else. It refreshes itself with a
 * meta refresh. Who may see it is admin-auth.ts's business (STATUS_PUBLIC, token or cookie).
 *
 * Two kinds of figures, labelled as such: the Durable Object's (health, probes: the same from
 * every isolate) and this isolate's (the routing table it holds and its age, the routing view,
 * request rates, hot client prefixes). Cloudflare runs many isolates per location and many
 * locations; a reload may land on another isolate, with its own counts.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { html, raw } from "hono/html";
import type { Settings } from "../core/config/settings.ts";
import { walkRing } from "../core/ring/ring.ts";
import { arcPath, cellKey, mergeCells, sampleCells, type Arc } from "../core/status/ring-picture.ts";
import { layoutShares } from "../core/ring/slot-ring.ts";
import { CATCH_ALL_POOL } from "../core/model.ts";
import { pickOrigins, type RoutingTable, type RoutingView } from "../core/routing/routing-table.ts";
import { DEFAULT_TRAFFIC_OPTIONS, type TrafficSnapshot } from "../core/status/traffic-stats.ts";
import { SESSION_COOKIE } from "../admin/auth.ts";
import type { Env } from "../worker/env.ts";
import { cacheStatus, viewAt, type CachedTable } from "../worker/routing-cache.ts";
import { RING_OBJECT_NAME, type OriginHealthDetail } from "../ring-store/ring-store.ts";
import type { AppEnv } from "../admin/app-env.ts";
import { isolateIdentity, isolateTraffic } from "../worker/isolate-traffic.ts";

type Markup = ReturnType<typeof html>;

/** Seconds between refreshes. */
export const REFRESH_SECONDS = 5;

/** Cells per ring drawing (three rings: at most 1,800 arcs in the SVG). */
const RING_CELLS = 600;

/** Hot client prefixes listed (of the k counted). */
const HOT_SHOWN = 10;

/** Keys sampled to estimate the share each origin serves now (standard error ≤ 0.4 points). */
const SERVING_SAMPLES = 16_384;

/** Legend entries beside the ring; the origins table lists every origin with its colour. */
const LEGEND_MAX = 24;

// Tableau 10, red last: red also means "down" on this page.
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#9c755f",
  "#ff9da7",
  "#bab0ac",
  "#e15759",
];

/** An origin's colour: the palette, then hues a golden angle apart. */
export function originColour(index: number): string {
  return index < PALETTE.length ? PALETTE[index]! : `hsl(${Math.round((index * 137.508) % 360)} 55% 48%)`;
}

/** The page handler; mount it behind the status access check: `app.get("/", requireAccess("status", true), statusPage)`. */
export async function statusPage(c: Context<AppEnv>): Promise<Response> {
  const { settings, table: load, now: clock } = c.env.status;
  const [cached, detail] = await Promise.all([load(), healthDetail(c.env.env, settings.doTimeoutMs)]);
  const now = clock();
  const nonce = makeNonce();
  c.header("content-security-policy", contentSecurityPolicy(nonce));
  c.header("referrer-policy", "no-referrer");
  c.header("cache-control", "no-store");
  const signedIn = getCookie(c, SESSION_COOKIE) !== undefined;
  const isolate = isolateIdentity(now);
  const body =
    cached === null
      ? html`<p class="banner bad">
          No origins configured: ORIGINS is empty or invalid and the Durable Object has none.
        </p>`
      : renderBody(cached, settings, detail, isolateTraffic(now), now);
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

type HealthDetail = { readonly lastRoundAt: number | null; readonly origins: readonly OriginHealthDetail[] };

/** The Durable Object's health records, or null if it does not answer in time (the page still renders). */
async function healthDetail(env: Env, timeoutMs: number): Promise<HealthDetail | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const answer = env.RING.get(env.RING.idFromName(RING_OBJECT_NAME)).getHealth() as Promise<HealthDetail>;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    return await Promise.race([answer, timeout]);
  } catch {
    return null;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

interface OriginRow {
  readonly index: number;
  readonly id: string;
  readonly region: string | null;
  readonly weight: number;
  readonly state: string;
  readonly probe: string;
  readonly ejectedUntil: number | null;
  readonly drainStartedAt: number | null;
  readonly lastProbeAt: number | null;
  readonly latencyMs: number | null;
  readonly error: string | null;
  readonly passiveFailures: number | null;
  /** Share of the key space its slots cover. */
  readonly share: number;
  /** The share of its own clients it takes now (0–1). */
  readonly takes: number;
  /** Share of the key space it serves now (sampled). */
  readonly serving: number;
}

function originRows(cached: CachedTable, view: RoutingView, detail: HealthDetail | null, now: number): OriginRow[] {
  const { table } = cached;
  // Shares of the key space are per pool: each origin's slots over its own pool's table.
  const shares = layoutShares(table.pools.map((pool) => pool.layout));
  // Serving shares too: each pool's clients sampled on that pool alone (where a pool's clients go
  // when it has no eligible origin depends on where they are, which this page does not know).
  const serving = new Array<number>(table.origins.length).fill(0);
  const out = new Uint32Array(1);
  table.pools.forEach((_pool, p) => {
    const only = Uint32Array.of(p);
    for (let i = 0; i < SERVING_SAMPLES; i++) {
      if (pickOrigins(table, view, cellKey(i, SERVING_SAMPLES), out, only) === 1) serving[out[0]!]!++;
    }
  });
  const records = new Map(detail?.origins.map((o) => [o.id, o.health]));
  return table.origins.map((origin, index) => {
    const record = records.get(origin.id);
    // The Durable Object's record is fresher than the isolate's snapshot (at most SNAPSHOT_TTL_MS old).
    const probe = record?.status ?? origin.health.status;
    const ejectedUntil = record?.ejectedUntil ?? origin.health.ejectedUntil;
    return {
      index,
      id: origin.id,
      region: origin.region,
      weight: origin.weight,
      state: origin.state,
      probe,
      ejectedUntil: ejectedUntil !== null && ejectedUntil > now ? ejectedUntil : null,
      drainStartedAt: origin.drainStartedAt,
      lastProbeAt: record?.lastProbeAt ?? null,
      latencyMs: record?.latencyMs ?? null,
      error: record?.error ?? null,
      passiveFailures: record?.passiveFailures ?? null,
      share: shares.get(origin.id) ?? 0,
      takes: view.weights[index]!,
      serving: serving[index]! / SERVING_SAMPLES,
    };
  });
}

function renderBody(
  cached: CachedTable,
  settings: Settings,
  detail: HealthDetail | null,
  traffic: TrafficSnapshot,
  now: number,
): Markup {
  const { table } = cached;
  const view = viewAt(table, settings, now);
  const rows = originRows(cached, view, detail, now);
  const cache = cacheStatus();
  const up = rows.filter((r) => r.probe === "up").length;
  const down = rows.filter((r) => r.probe === "down").length;
  const ejected = rows.filter((r) => r.ejectedUntil !== null).length;
  const regional = table.pools.filter((pool) => pool.id !== CATCH_ALL_POOL).length;
  const banners: Markup[] = [];
  if (view.panic)
    banners.push(
      html`<p class="banner bad">
        Panic mode: fewer than ${settings.panicPercent} % of the active origins can take traffic, so every active origin
        takes its full share again (health data is more likely wrong than the origins).
      </p>`,
    );
  if (view.eligibleCount === 0)
    banners.push(html`<p class="banner bad">No origin can take traffic: clients get 503.</p>`);
  if (cached.source === "bootstrap")
    banners.push(
      html`<p class="banner warn">
        This isolate routes on the bootstrap list (ORIGINS): it has not reached the Durable
        Object${cache.lastError === null ? "" : html` (${cache.lastError})`}.
      </p>`,
    );
  if (detail === null)
    banners.push(
      html`<p class="banner warn">
        The Durable Object did not answer within ${settings.doTimeoutMs} ms: probe details are missing; health is this
        isolate's snapshot.
      </p>`,
    );
  if (cached.bootstrapErrors.length > 0)
    banners.push(
      html`<p class="banner warn">
        ORIGINS was not applied: ${cached.bootstrapErrors.map((e) => `${e.field} ${e.message}`).join("; ")}.
      </p>`,
    );

  return html`${banners}
    <section class="cards">
      <div class="card">
        <h3>Pools</h3>
        <p class="big">${table.pools.length}</p>
        <p>
          ${
            regional === 0
              ? `One pool of ${rows.length} origins (no REGIONS)`
              : `${regional} regional${table.pools.length > regional ? " + the catch-all" : ""}; steered by request.cf`
          }
        </p>
      </div>
      <div class="card">
        <h3>Origins</h3>
        <p class="big">${view.eligibleCount} <small>of ${rows.length} take traffic</small></p>
        <p>${up} up · ${down} down · ${rows.length - up - down} unknown · ${ejected} ejected</p>
      </div>
      <div class="card">
        <h3>Epoch</h3>
        <p class="big">${table.epoch}</p>
        <p>
          layout epoch ${table.layoutEpoch} ·
          ${table.pools.reduce((sum, pool) => sum + pool.layout.owners.length, 0).toLocaleString("en")} slots
        </p>
      </div>
      <div class="card isolate">
        <h3>Snapshot <span class="scope">this isolate</span></h3>
        <p class="big">${seconds(now - cached.receivedAt)}</p>
        <p>
          old, from the ${cached.source === "bootstrap" ? "bootstrap list" : "Durable Object"} · TTL
          ${seconds(settings.snapshotTtlMs)} · ${cache.refreshes} refreshes, ${cache.locationHits} answered by the
          location cache
        </p>
      </div>
      <div class="card">
        <h3>Probes</h3>
        <p class="big">${detail?.lastRoundAt == null ? "—" : ago(now - detail.lastRoundAt)}</p>
        <p>
          last round · every ${settings.healthIntervalMs > 0 ? seconds(settings.healthIntervalMs) : "cron minute"} ·
          fall ${settings.healthFall}, rise ${settings.healthRise}
        </p>
      </div>
      <div class="card isolate">
        <h3>Requests <span class="scope">this isolate</span></h3>
        <p class="big">${rate(traffic.requestsPerSecond)} <small>/s</small></p>
        <p>
          ${rate(traffic.errorsPerSecond)} errors/s
          (${percent(traffic.requests === 0 ? 0 : traffic.errors / traffic.requests)}) over ${traffic.coveredSeconds} s
        </p>
      </div>
    </section>

    <section>
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
              <td>
                ${pool.id === CATCH_ALL_POOL ? (regional === 0 ? "default (all origins)" : "catch-all") : pool.id}
              </td>
              <td>${serves}</td>
              <td class="num">${pool.members.length}</td>
              <td class="num${view.poolEligible[p] === 0 ? " bad-text" : ""}">${view.poolEligible[p]}</td>
              <td class="num">${pool.layout.owners.length.toLocaleString("en")}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </section>

    <section class="ring-section">
      <h2>Ring</h2>
      <div class="ring-layout">
        <div class="rings">${table.pools.map((pool, p) => ringSvg(table, view, rows, p, pool.id))}</div>
        <div>
          ${legend(rows)}
          <p class="note">
            The key space clockwise from 12 o'clock, drawn as ${RING_CELLS} samples of the
            ${table.pools.length === 1 ? `${table.layout.owners.length.toLocaleString("en")}-slot` : "each pool's"}
            table (adjacent slots have pseudo-random owners, hence the fine grain). Outer ring: who owns each part (the
            slot layout; faded: takes no traffic now). Middle ring: who serves those clients now, as this isolate
            routes: a down, ejected, draining or disabled origin is skipped and each of its clients goes to its own ring
            successor. Inner ring: only the clients away from their owner, in the colour of the origin that has them.
          </p>
        </div>
      </div>
    </section>

    <section>
      <h2>Origins</h2>
      ${originTable(rows, now)}
    </section>

    <div class="columns">
      <section class="isolate">
        <h2>Traffic <span class="scope">this isolate</span></h2>
        <p>
          ${traffic.requests.toLocaleString("en")} requests and ${traffic.errors.toLocaleString("en")} errors (status ≥
          500: origins' and the balancer's own) in the last ${traffic.coveredSeconds} s; per second, newest right:
        </p>
        ${sparkline(traffic)}
      </section>

      <section class="isolate">
        <h2>Hottest client prefixes <span class="scope">this isolate</span></h2>
        ${hotTable(traffic, table, view, now, settings.affinity.kind === "ip" && table.pools.length === 1)}
      </section>
    </div>`;
}

function renderDocument(
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

/** Pool `p`'s ring (one per pool; its members drawn in their table.origins colours). */
function ringSvg(table: RoutingTable, view: RoutingView, rows: readonly OriginRow[], p: number, id: string): Markup {
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

function legend(rows: readonly OriginRow[]): Markup {
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

/** `placed`: a prefix's hash says where it goes (the address is the key and there is one pool). */
function hotTable(
  traffic: TrafficSnapshot,
  table: RoutingTable,
  view: RoutingView,
  now: number,
  placed: boolean,
): Markup {
  const { hot } = traffic;
  if (hot.keys.length === 0) return html`<p>No client requests counted yet.</p>`;
  const one = new Uint32Array(1);
  const k = DEFAULT_TRAFFIC_OPTIONS.topK;
  const shown = hot.keys.slice(0, HOT_SHOWN);
  return html`<p>
      Over the last ${seconds(now - (hot.since ?? now))}: ${hot.requests.toLocaleString("en")} requests with a client
      key, counted with the space-saving algorithm (${k} counters): a prefix sending more than 1/${k} of them is always
      held (highlighted when it certainly did); a count may be too high by at most "±". One prefix far above the rest (a
      NAT gateway, a crawler) puts all its load on one origin.
    </p>
    <table class="hot">
      <thead>
        <tr>
          <th>client prefix</th>
          <th class="num">requests</th>
          <th class="num">±</th>
          <th class="num">share, at least</th>
          <th>served by now</th>
        </tr>
      </thead>
      <tbody>
        ${shown.map((entry) => {
          // With regional pools the origin depends on where the client is, which is not counted, and
          // with another AFFINITY_KEY on what the client sends.
          const origin = placed && pickOrigins(table, view, entry.hash, one) === 1 ? one[0]! : -1;
          return html`<tr${entry.share > 1 / k ? html` class="heavy"` : ""}>
        <td class="mono">${entry.key}</td>
        <td class="num">${entry.count.toLocaleString("en")}</td>
        <td class="num">${entry.overestimate === 0 ? "" : entry.overestimate.toLocaleString("en")}</td>
        <td class="num">${percent(entry.share)}</td>
        <td>${origin < 0 ? "—" : html`<span class="swatch o${origin}">■</span> ${table.origins[origin]!.id}`}</td>
      </tr>`;
        })}
      </tbody>
    </table>
    ${hot.keys.length > shown.length ? html`<p class="note">${hot.keys.length - shown.length} more counters held, none with more than ${plural(shown[shown.length - 1]!.guaranteed, "request")} for certain.</p>` : ""}`;
}

function plural(count: number, noun: string): string {
  return `${count.toLocaleString("en")} ${noun}${count === 1 ? "" : "s"}`;
}

function percent(fraction: number): string {
  const value = fraction * 100;
  return `${value === 0 || value === 100 ? value : value < 0.1 ? "<0.1" : value.toFixed(value < 10 ? 2 : 1)} %`;
}

function rate(perSecond: number): string {
  return perSecond >= 100 ? Math.round(perSecond).toLocaleString("en") : perSecond.toFixed(perSecond >= 10 ? 1 : 2);
}

function seconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function ago(ms: number): string {
  return `${seconds(ms)} ago`;
}

const STYLE = `
:root{color-scheme:light;--fg:#1d2330;--muted:#5f6b7a;--line:#e3e7ee;--bg:#f6f8fb;--card:#fff;--bad:#c62828;--warn:#b26a00;--good:#2e7d32}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:.5rem 2rem;padding:1rem 1.5rem;background:#1d2330;color:#fff}
header h1{margin:0;font-size:1.25rem;font-weight:650}header h1 span{font-weight:400;color:#aab4c3}
header .meta{margin:0;color:#c9d1dc}header a{color:#9cc3ff}
header form{display:inline}header button{font:inherit;background:none;border:1px solid #6b778a;color:#fff;border-radius:4px;padding:0 .5rem;cursor:pointer}
main{max-width:1280px;margin:0 auto;padding:1rem 1.5rem}
h2{font-size:1.05rem;margin:1.75rem 0 .5rem}h3{font-size:.8rem;margin:0;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
section{margin-bottom:1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.75rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem .9rem}
.card p{margin:.2rem 0 0;color:var(--muted);font-size:.85rem}.card .big{font-size:1.6rem;color:var(--fg);font-weight:650;margin:.15rem 0 0}
.card .big small{font-size:.85rem;font-weight:400;color:var(--muted)}
.isolate .scope,.scope{font-size:.68rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:#6a3fb5;background:#efe8fb;border-radius:3px;padding:0 .3rem;white-space:nowrap}
.card.isolate,section.isolate table,section.isolate .spark{border-color:#d8c9f3}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{padding:.35rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
th{font-size:.75rem;color:var(--muted);font-weight:600;background:#fafbfd}
tr:last-child td{border-bottom:0}
.num{text-align:right;font-variant-numeric:tabular-nums}.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace}
td.error{color:var(--bad);max-width:22rem;overflow-wrap:anywhere;font-size:.85rem}
small{color:var(--muted)}
.badge{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.78rem;font-weight:600;background:#e8ebf0;color:#3b4554}
.badge.up,.badge.active{background:#e3f3e4;color:var(--good)}.badge.down,.badge.disabled{background:#fde7e7;color:var(--bad)}
.badge.ejected,.badge.draining{background:#fff1dc;color:var(--warn)}
tr[data-health=down] td:first-child{box-shadow:inset 3px 0 var(--bad)}
.banner{padding:.6rem .9rem;border-radius:8px;margin:.5rem 0}.banner.bad{background:#fde7e7;color:#7f1010}.banner.warn{background:#fff1dc;color:#6b4000}
.bad-text{color:var(--bad)}
.ring-layout{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem}
.ring-layout>div{flex:1 1 420px}
.ring-layout>.rings{flex:0 1 auto;display:flex;flex-wrap:wrap;gap:1rem}
.ring .arc{fill:none;stroke:currentColor;stroke-width:22}.ring .moved .arc{stroke-width:12}
.ring .arc.out{opacity:.25}.ring .arc.none{stroke:#d0d4da}.ring .track{fill:none;stroke:#f0f2f5;stroke-width:12}
table.legend{border:0;width:auto}table.legend td,table.legend th{border:0;padding:.15rem .5rem .15rem 0;background:none}
.bar{display:block}.bar rect{fill:currentColor}.bar rect.out{opacity:.3}
.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:0 1.5rem}
table.origins td:first-child{white-space:nowrap}
.ring-label{font-size:15px;font-weight:650;fill:var(--fg)}.ring-label.small,.small{font-size:11px;font-weight:400;fill:var(--muted)}
.swatch{font-size:1rem;line-height:1}
.note{color:var(--muted);font-size:.82rem;max-width:70rem}
.spark{display:block;background:var(--card);border:1px solid var(--line);border-radius:8px;max-width:100%;height:auto}
.spark .requests{fill:#8fb3d9}.spark .errors{fill:var(--bad)}
tr.heavy td{background:#fff7e8}
footer{max-width:1280px;margin:1rem auto 2rem;padding:0 1.5rem;color:var(--muted);font-size:.8rem}
`;
