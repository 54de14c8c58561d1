/**
 * The balancer's own routes under the reserved prefix (LB_PREFIX, default "/__lb"). Nothing under
 * the prefix is ever forwarded to an origin. For now: a read-only `GET {prefix}/status`; the
 * admin API comes later.
 */
import { Hono } from "hono";
import type { Settings } from "../core/config.ts";
import type { Env } from "./env.ts";
import { cacheStatus, type CachedTable } from "./routing-cache.ts";

/** What the status route needs besides the request. */
export interface StatusContext {
  readonly settings: Settings;
  readonly table: () => Promise<CachedTable | null>;
  readonly now: () => number;
}

type AppEnv = {
  Bindings: { readonly env: Env; readonly status: StatusContext };
};

const apps = new Map<string, Hono<AppEnv>>();

/** True when `pathname` is the prefix itself or below it ("/__lbx" is the origins'). */
export function isReservedPath(pathname: string, prefix: string): boolean {
  return pathname === prefix || (pathname.startsWith(prefix) && pathname.charCodeAt(prefix.length) === 47);
}

/** Answers a request under the reserved prefix. */
export function handleReserved(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  status: StatusContext,
): Response | Promise<Response> {
  return appFor(status.settings.lbPrefix).fetch(request, { env, status }, ctx);
}

function appFor(prefix: string): Hono<AppEnv> {
  let app = apps.get(prefix);
  if (app !== undefined) return app;
  app = new Hono<AppEnv>().basePath(prefix);
  app.get("/status", async (c) => {
    const { table: load, now } = c.env.status;
    const cached = await load();
    const cache = cacheStatus();
    c.header("cache-control", "no-store");
    if (cached === null)
      return c.json(
        {
          epoch: null,
          source: null,
          origins: [],
          error: "no origins configured",
          cache,
        },
        503,
      );
    return c.json({
      epoch: cached.table.epoch,
      source: cached.source,
      snapshotAgeMs: now() - cached.receivedAt,
      eligible: cached.table.eligibleCount,
      // URLs stay out of this unauthenticated view: they would let anyone bypass the balancer.
      origins: cached.table.origins.map(({ id, weight, region, state }, index) => ({
        id,
        weight,
        region,
        state,
        eligible: cached.table.eligible[index] === 1,
      })),
      bootstrapErrors: cached.bootstrapErrors,
      cache,
    });
  });
  app.notFound((c) => c.json({ error: "not found" }, 404));
  app.onError((error, c) => {
    console.error(`${prefix} route failed: ${error.message}`);
    return c.json({ error: "internal error" }, 500);
  });
  apps.set(prefix, app);
  return app;
}
