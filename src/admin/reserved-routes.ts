/**
 * The balancer's own routes under the reserved prefix (LB_PREFIX, default "/__lb"). Nothing under
 * the prefix is ever forwarded to an origin. `GET {prefix}/status` (read-only JSON), the status
 * page at `GET {prefix}/`, its login, and the admin API (admin-routes.ts); who may use which is
 * admin-auth.ts's (README "Admin API").
 */
import { Hono } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { AppEnv, StatusContext } from "./app-env.ts";
import { registerLogin, requireAccess } from "./auth.ts";
import { registerAdminRoutes } from "./api-routes.ts";
import { statusPage } from "../status/status-page.ts";
import type { Env } from "../worker/env.ts";
import { cacheStatus, viewAt, type CachedTable } from "../worker/routing-cache.ts";
import { RING_OBJECT_NAME, type OriginHealthDetail } from "../ring-store/ring-store.ts";

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
  // Not strict: `{prefix}` and `{prefix}/` are both the status page (and "/status/" the status).
  app = new Hono<AppEnv>({ strict: false }).basePath(prefix);
  // Nothing here may be cached by a browser or a shared cache: it is live and may be private.
  app.use(async (c, next) => {
    await next();
    c.res.headers.set("cache-control", "no-store");
    c.res.headers.set("x-content-type-options", "nosniff");
  });
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => c.json({ error: "method not allowed" }, 405, { allow: methods.join(", ") }),
    }),
  );
  app.get("/", requireAccess("status", true), statusPage);
  registerLogin(app);
  registerAdminRoutes(app);
  app.get("/status", requireAccess("status"), async (c) => {
    const { table: load, now: clock, settings } = c.env.status;
    const cached = await load();
    const cache = cacheStatus();
    if (cached === null)
      return c.json({ epoch: null, source: null, origins: [], error: "no origins configured", cache }, 503);
    const now = clock();
    const view = viewAt(cached.table, settings, now);
    const detail = await healthDetail(c.env.env, settings.doTimeoutMs);
    return c.json({
      epoch: cached.table.epoch,
      source: cached.source,
      snapshotAgeMs: now - cached.receivedAt,
      panic: view.panic,
      eligible: view.eligibleCount,
      lastProbeRoundAt: detail?.lastRoundAt ?? null,
      // URLs stay out of this view, which STATUS_PUBLIC may open to anyone: they would let anyone
      // bypass the balancer. The authenticated GET {prefix}/api/origins shows them.
      origins: cached.table.origins.map(({ id, weight, region, state, drainStartedAt, health }, index) => {
        const record = detail?.origins.find((o) => o.id === id)?.health;
        return {
          id,
          weight,
          region,
          state,
          // The share of its own clients this origin takes now (0–1): health, ejection, slow start, drain.
          traffic: Math.round(view.weights[index]! * 1000) / 1000,
          health: health.status,
          ejectedUntil: health.ejectedUntil,
          recoveredAt: health.recoveredAt,
          drainStartedAt,
          drainProgress:
            state === "draining" && drainStartedAt !== null
              ? Math.min(1, settings.drainMs === 0 ? 1 : (now - drainStartedAt) / settings.drainMs)
              : null,
          probe:
            record === undefined
              ? null
              : {
                  lastAt: record.lastProbeAt,
                  latencyMs: record.latencyMs,
                  error: record.error,
                  passiveFailures: record.passiveFailures,
                },
        };
      }),
      bootstrapErrors: cached.bootstrapErrors,
      cache,
    });
  });
  app.notFound((c) => c.json({ error: "not found" }, 404));
  // In practice a failure here is the Durable Object not answering: 503, never a stack trace. A
  // change whose answer was lost may or may not have been applied; the audit log tells.
  app.onError((error, c) => {
    console.error(`${prefix} route failed: ${error.message}`);
    const read = c.req.method === "GET" || c.req.method === "HEAD";
    const message = read
      ? "temporarily unavailable"
      : `no answer from the ring store: the change may or may not have been applied (see ${prefix}/api/audit)`;
    return c.json({ error: message }, 503);
  });
  apps.set(prefix, app);
  return app;
}

/** The Durable Object's health records, or null if it does not answer in time (the status still works). */
async function healthDetail(
  env: Env,
  timeoutMs: number,
): Promise<{ lastRoundAt: number | null; origins: OriginHealthDetail[] } | null> {
  try {
    const answer = env.RING.get(env.RING.idFromName(RING_OBJECT_NAME)).getHealth();
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs));
    return (await Promise.race([answer, timeout])) as {
      lastRoundAt: number | null;
      origins: OriginHealthDetail[];
    } | null;
  } catch {
    return null;
  }
}
