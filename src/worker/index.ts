/**
 * The Worker entry: wiring only. Per request: settings (parsed once per isolate), the reserved
 * prefix, the cached routing table and its view at this instant, the client key, the ring walk,
 * the proxy, and the attempts counted for passive health.
 */
import { parseSettings, type Settings } from "../core/config/settings.ts";
import { type Result } from "../core/result.ts";
import { clientKey } from "../core/key/client-key.ts";
import { hasVia } from "../core/proxy/forwarded.ts";
import { checkRequest } from "../core/proxy/request-limits.ts";
import { xxh32 } from "../core/hash.ts";
import { pickOrigins } from "../core/routing/routing-table.ts";
import { poolOf, type OriginRecord } from "../core/model.ts";
import type { ClientLocation } from "../core/routing/steering.ts";
import type { Env } from "./env.ts";
import { flushReports, recordAttempts, reportDue } from "./health-reporter.ts";
import { errorResponse, proxyRequest } from "./proxy.ts";
import { locationFor } from "./location-cache.ts";
import { adoptReportAnswer, currentTable, knownEpochs, reportsStillNews, viewAt } from "./routing-cache.ts";
import { ringStub } from "./do-call.ts";
import { handleReserved, isReservedPath } from "../admin/reserved-routes.ts";
import { countRequest } from "./isolate-traffic.ts";
import { poolOrder } from "./steering-cache.ts";
import { sourceKeyHash } from "../core/key/affinity-key.ts";

export { RingStore } from "../ring-store/ring-store.ts";

const settingsCache = new WeakMap<object, Result<Settings>>();

function loadSettings(env: Env): Result<Settings> {
  let settings = settingsCache.get(env);
  if (settings === undefined) {
    settings = parseSettings(env as unknown as Record<string, unknown>);
    if (!settings.ok)
      console.error(`settings invalid: ${settings.errors.map((e) => `${e.field} ${e.message}`).join("; ")}`);
    settingsCache.set(env, settings);
  }
  return settings;
}

// Reused for every request of the isolate: the walk writes into it instead of allocating.
let walk = new Uint32Array(3);

export default {
  async fetch(request, env, ctx): Promise<Response> {
    try {
      return await route(request, env, ctx);
    } catch (error) {
      // A defect of ours must still end in one of our short answers, never the runtime's error page.
      console.error(`request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return errorResponse(502, "bad gateway");
    }
  },

  // The cron asks the Durable Object for a probe round (the object's alarm adds rounds between
  // crons when HEALTH_INTERVAL_MS is set; rounds never overlap or count twice).
  async scheduled(_controller, env, ctx): Promise<void> {
    ctx.waitUntil(
      ringStub(env)
        .probeRound()
        .then(() => undefined),
    );
  },
} satisfies ExportedHandler<Env>;

async function route(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const loaded = loadSettings(env);
  // Details go to the log (wrangler tail), not to the public.
  if (!loaded.ok) return errorResponse(503, "load balancer misconfigured");
  const settings = loaded.value;
  const url = new URL(request.url);
  const location = () => locationFor(url, settings, env);
  const table = () => currentTable(env, settings, ctx, location);
  if (isReservedPath(url.pathname, settings.lbPrefix)) {
    return handleReserved(request, env, ctx, { settings, table, now: Date.now });
  }
  // Our own name in Via means this request already passed through us: a loop (508 Loop Detected,
  // RFC 5842 §7.2). Checked before anything is contacted, like the limits.
  if (hasVia(request.headers.get("via"), settings.viaPseudonym)) return errorResponse(508, "loop detected");
  const refused = checkRequest(request.url, request.headers, settings);
  if (refused !== null) return errorResponse(refused.status, refused.message);
  const cached = await table();
  if (cached === null) return errorResponse(503, "no origins configured");

  const header = request.headers.get("cf-connecting-ip");
  const key = clientKey(header, settings);
  if (walk.length !== settings.maxAttempts) walk = new Uint32Array(settings.maxAttempts);
  const view = viewAt(cached.table, settings, Date.now());
  // AFFINITY_KEY: a header, cookie or path key when configured and present, else the address.
  const sourced = sourceKeyHash(settings.affinity, request.headers, url.pathname);
  const keyHash = sourced ?? xxh32(key.bytes);
  // request.cf is read only with regional pools: the getter costs a deserialization per request.
  const order =
    cached.table.pools.length > 1 ? poolOrder(cached.table, request.cf as ClientLocation | undefined) : null;
  const count = pickOrigins(cached.table, view, keyHash, walk, order);
  const candidates: OriginRecord[] = [];
  for (let i = 0; i < count; i++) candidates.push(cached.table.origins[walk[i]!]!);

  const { response, attempts } = await proxyRequest(request, url, candidates, {
    settings,
    epoch: cached.table.epoch,
    // Only for the debug header: no closure on the request path otherwise.
    ...(settings.debugHeaders
      ? {
          poolOf: (id: string) =>
            poolOf(candidates.find((origin) => origin.id === id)?.region ?? null, cached.table.regionIds),
        }
      : {}),
    info: {
      // A parsed address is safe to forward as the client sent it; a malformed one is not forwarded.
      clientIp: key.kind === "fallback" ? null : header!.trim(),
      proto: url.protocol.slice(0, -1),
      host: url.host,
    },
  });
  if (attempts.length > 0) {
    recordAttempts(attempts);
    // The hooks are built only when a report is due (rarely: after failures, once per interval).
    if (reportDue(settings))
      flushReports(env, settings, ctx, {
        onAnswer: (answer) => adoptReportAnswer(env, settings, ctx, answer, location()),
        known: knownEpochs,
        stillNews: (batch) => reportsStillNews(env, settings, ctx, location(), batch),
      });
  }
  // Per-isolate rates and hot client prefixes for the status page: O(1), no allocation. The hot
  // prefixes are client addresses, so they are counted by the address's hash whatever AFFINITY_KEY is.
  countRequest(key, sourced === null ? keyHash : xxh32(key.bytes), response.status);
  return response;
}
