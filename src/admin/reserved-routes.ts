/**
 * The balancer's own routes under the reserved prefix (LB_PREFIX, default "/__lb"). Nothing under
 * the prefix is ever forwarded to an origin. `GET {prefix}/status` (read-only JSON,
 * status/status-json.ts) and `GET {prefix}/metrics` (the same for a Prometheus scraper,
 * status/metrics.ts), the status page at `GET {prefix}/` (status/status-page.ts), its login, and
 * the admin API (api-routes.ts); who may use which is auth.ts's (README "Admin API").
 */
import { Hono } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { AppEnv, StatusContext } from "./app-env.ts";
import { requireAccess } from "./auth.ts";
import { registerLogin } from "./login.ts";
import { registerAdminRoutes } from "./api-routes.ts";
import { registerPlacementRoutes } from "./placement-routes.ts";
import { metrics } from "../status/metrics.ts";
import { statusJson } from "../status/status-json.ts";
import { statusPage } from "../status/status-page.ts";
import type { Env } from "../worker/env.ts";
import { emitLog } from "../worker/emit-log.ts";

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
  registerPlacementRoutes(app);
  app.get("/status", requireAccess("status"), statusJson);
  app.get("/metrics", requireAccess("status"), metrics);
  app.notFound((c) => c.json({ error: "not found" }, 404));
  // In practice a failure here is the Durable Object not answering: 503, never a stack trace. A
  // change whose answer was lost may or may not have been applied; the audit log tells.
  app.onError((error, c) => {
    emitLog({ event: "admin.failed", level: "error", prefix, method: c.req.method, error: error.message }, c.env.env);
    const read = c.req.method === "GET" || c.req.method === "HEAD";
    const message = read
      ? "temporarily unavailable"
      : `no answer from the ring store: the change may or may not have been applied (see ${prefix}/api/audit)`;
    return c.json({ error: message }, 503);
  });
  apps.set(prefix, app);
  return app;
}
