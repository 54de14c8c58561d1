/**
 * The Worker entry: wiring only. Per request: settings (parsed once per isolate), the reserved
 * prefix, the cached routing table, the client key, the ring walk, the proxy.
 */
import { parseSettings, type Result, type Settings } from "../core/config.ts";
import { clientKey } from "../core/client-key.ts";
import { xxh32 } from "../core/hash.ts";
import { pickOrigins, type OriginRecord } from "../core/routing-table.ts";
import type { Env } from "./env.ts";
import { errorResponse, proxyRequest } from "./proxy.ts";
import { currentTable } from "./routing-cache.ts";
import { RING_OBJECT_NAME } from "./ring-store.ts";
import { handleReserved, isReservedPath } from "./status-routes.ts";

export { RingStore } from "./ring-store.ts";

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

  // Probing arrives with the health issue; until then the cron only makes sure the object has
  // applied the current ORIGINS (it does so when it starts) and is reachable.
  async scheduled(_controller, env, ctx): Promise<void> {
    ctx.waitUntil(
      env.RING.get(env.RING.idFromName(RING_OBJECT_NAME))
        .getSnapshot()
        .then(() => undefined),
    );
  },
} satisfies ExportedHandler<Env>;

async function route(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const settings = loadSettings(env);
  // Details go to the log (wrangler tail), not to the public.
  if (!settings.ok) return errorResponse(503, "load balancer misconfigured");
  const url = new URL(request.url);
  const table = () => currentTable(env, settings.value, ctx);
  if (isReservedPath(url.pathname, settings.value.lbPrefix)) {
    return handleReserved(request, env, ctx, {
      settings: settings.value,
      table,
      now: Date.now,
    });
  }
  const cached = await table();
  if (cached === null) return errorResponse(503, "no origins configured");

  const header = request.headers.get("cf-connecting-ip");
  const key = clientKey(header, settings.value);
  if (walk.length !== settings.value.maxAttempts) walk = new Uint32Array(settings.value.maxAttempts);
  const count = pickOrigins(cached.table, xxh32(key.bytes), walk);
  const candidates: OriginRecord[] = [];
  for (let i = 0; i < count; i++) candidates.push(cached.table.origins[walk[i]!]!);

  const { response } = await proxyRequest(request, url, candidates, settings.value, {
    // A parsed address is safe to forward as the client sent it; a malformed one is not forwarded.
    clientIp: key.kind === "fallback" ? null : header!.trim(),
    proto: url.protocol.slice(0, -1),
    host: url.host,
  });
  return response;
}
