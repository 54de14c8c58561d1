/**
 * The request path, top to bottom: the reserved prefix, loop and size checks, the cached routing
 * table and its view at this instant, the client key, the ring walk, the proxy, and the attempts
 * counted for passive health and the status page's traffic figures.
 */
import { handleReserved, isReservedPath } from "../admin/reserved-routes.ts";
import type { Settings } from "../core/config/settings.ts";
import { xxh32 } from "../core/hash.ts";
import { sourceKeyHash } from "../core/key/affinity-key.ts";
import { clientKey } from "../core/key/client-key.ts";
import { poolOf, type OriginRecord } from "../core/model.ts";
import { hasVia } from "../core/proxy/forwarded.ts";
import { checkScanned } from "../core/proxy/request-limits.ts";
import { scanRequest } from "../core/proxy/request-scan.ts";
import { originHost, splitRequestUrl } from "../core/proxy/request-url.ts";
import { pickOrigins } from "../core/routing/pick-origins.ts";
import type { ClientLocation } from "../core/routing/steering.ts";
import { countEdgeRequest } from "./edge-traffic.ts";
import type { Env } from "./env.ts";
import { flushReports, recordAttempts, reportDue } from "./health-reporter.ts";
import { countRequest } from "./isolate-traffic.ts";
import { locationFor, type LocationCache } from "./location-cache.ts";
import { placeRequest, withAffinityCookie } from "./placement-route.ts";
import { errorResponse, proxyRequest } from "./proxy.ts";
import { adoptReportAnswer, currentTable, heldTable, knownEpochs, reportsStillNews } from "./routing-cache.ts";
import { poolOrder } from "./steering-cache.ts";
import { viewAt } from "./view-cache.ts";

// Reused for every request of the isolate: the walk writes into it instead of allocating.
let walk = new Uint32Array(3);

// What `tableLocation` reads: set just before heldTable and currentTable are called, which ask
// their `location` synchronously (before any await) when they start a refresh, so one function
// made once serves every request instead of a closure per request.
let locatingOrigin: string | null = null;
let locatingSettings: Settings | null = null;
let locatingEnv: Env | null = null;
const tableLocation = (): LocationCache | null =>
  locatingOrigin === null ? null : locationFor(locatingOrigin, locatingSettings!, locatingEnv!);

/** Routes one request with valid settings: answers it under the reserved prefix, else proxies it. */
export async function route(request: Request, env: Env, ctx: ExecutionContext, settings: Settings): Promise<Response> {
  const href = request.url;
  // Cut from the serialized URL, not parsed again (request-url.ts says why that is safe).
  const url = splitRequestUrl(href);
  const pathname = url.pathname;
  if (isReservedPath(pathname, settings.lbPrefix)) {
    const table = () => currentTable(env, settings, ctx, () => locationFor(url.origin, settings, env));
    return handleReserved(request, env, ctx, { settings, table, now: Date.now });
  }
  // Every header field read once: the checks below, the client address, what is forwarded.
  // Each Request getter is a call into the runtime: the headers are read once.
  const headers = request.headers;
  const scan = scanRequest(headers);
  // Our own name in Via means this request already passed through us: a loop (508 Loop Detected,
  // RFC 5842 §7.2). Checked before anything is contacted, like the limits.
  if (hasVia(scan.via, settings.viaPseudonym)) return errorResponse(508, "loop detected");
  const refused = checkScanned(href, scan, settings);
  if (refused !== null) return errorResponse(refused.status, refused.message);
  locatingOrigin = url.origin;
  locatingSettings = settings;
  locatingEnv = env;
  // The clock as of the last await: read here, again only after an await (the cold isolate's
  // table, a placement), and once the answer is in. Each reading is a call into the runtime, and in
  // workerd time stands still while JavaScript runs between two awaits.
  let now = Date.now();
  // Held (every request but a cold isolate's first): no promise and no await.
  const held = heldTable(env, settings, ctx, tableLocation, undefined, undefined, now);
  const pending = held === null ? currentTable(env, settings, ctx, tableLocation) : null;
  locatingOrigin = locatingSettings = locatingEnv = null;
  const cached = pending === null ? held : await pending;
  if (cached === null) return errorResponse(503, "no origins configured");
  if (pending !== null) now = Date.now();

  const header = scan.clientIp;
  const key = clientKey(header, settings);
  if (walk.length !== settings.maxAttempts) walk = new Uint32Array(settings.maxAttempts);
  const view = viewAt(cached.table, settings, now);
  // AFFINITY_KEY: a header, cookie or path key when configured and present, else the address.
  const sourced = settings.affinity.kind === "ip" ? null : sourceKeyHash(settings.affinity, headers, pathname);
  const keyHash = sourced ?? xxh32(key.bytes);
  // Who the client is, for its share of the retry budget, passive health and the hot prefixes:
  // always its address, since a header or cookie key (AFFINITY_KEY) is the client's to vary.
  const addressHash = sourced === null ? keyHash : xxh32(key.bytes);
  // request.cf is read only with regional pools: the getter costs a deserialization per request.
  const order =
    cached.table.pools.length > 1 ? poolOrder(cached.table, request.cf as ClientLocation | undefined) : null;
  const count = pickOrigins(cached.table, view, keyHash, walk, order);
  const candidates: OriginRecord[] = [];
  for (let i = 0; i < count; i++) candidates.push(cached.table.origins[walk[i]!]!);
  // Load-aware placement: only a placed hot key's candidates change; no placements, one size check.
  const cookie =
    cached.placements.size === 0
      ? null
      : await placeRequest(request, cached, view, key, keyHash, candidates, settings, env);
  if (cached.placements.size !== 0) now = Date.now();

  const { response, status, attempts } = await proxyRequest(request, candidates, {
    settings,
    headers,
    scan,
    pathname,
    search: url.search,
    epoch: cached.table.epoch,
    clientHash: addressHash,
    startedAt: now,
    // Only for the debug header: no closure on the request path otherwise.
    poolOf: settings.debugHeaders
      ? (id: string) => poolOf(candidates.find((origin) => origin.id === id)?.region ?? null, cached.table.regionIds)
      : undefined,
    info: {
      // A parsed address is safe to forward as the client sent it; a malformed one is not forwarded.
      clientIp: key.kind === "fallback" ? null : header!.trim(),
      // The scheme of a serialized URL ends at its first ":".
      proto: href.slice(0, href.indexOf(":")),
      // Only X-Forwarded-Host and Forwarded carry it: not read otherwise (a call into the runtime).
      host: settings.forwardFields.host || settings.forwardFields.forwarded ? originHost(url.origin) : "",
    },
  });
  const end = Date.now();
  if (attempts.length > 0) {
    recordAttempts(attempts, addressHash);
    // The hooks are built only when a report is due (rarely: after failures, once per interval).
    if (reportDue(settings, end)) {
      const location = () => locationFor(url.origin, settings, env);
      flushReports(env, settings, ctx, {
        onAnswer: (answer) => adoptReportAnswer(env, settings, ctx, answer, location()),
        known: knownEpochs,
        stillNews: (batch) => reportsStillNews(env, settings, ctx, location(), batch),
      });
    }
  }
  // Per-isolate rates and hot client prefixes for the status page: O(1), no allocation. The hot
  // prefixes are client addresses, so they are counted by the address's hash whatever AFFINITY_KEY is.
  countRequest(key, addressHash, status, end);
  // The edge-wide view's counts (edge-traffic.ts), sent with the next refresh.
  countEdgeRequest(attempts[attempts.length - 1]?.originId ?? null, key, addressHash, status, scan, end);
  return cookie === null ? response : withAffinityCookie(response, cookie);
}
