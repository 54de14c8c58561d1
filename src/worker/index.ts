/**
 * The Worker entry: wiring only. Settings are parsed once per isolate; every request then takes
 * the request path (request.ts), and the cron asks the Durable Object for a probe round.
 */
import { parseSettings, type Settings } from "../core/config/settings.ts";
import type { Result } from "../core/result.ts";
import { ringStub } from "./do-call.ts";
import type { Env } from "./env.ts";
import { emitLog } from "./emit-log.ts";
import { errorResponse } from "./proxy.ts";
import { route } from "./request.ts";

export { RingStore } from "../ring-store/ring-store.ts";

const settingsCache = new WeakMap<object, Result<Settings>>();
// The env of the isolate's last request and its settings: the same object on every request of a
// deployment, so most requests skip even the WeakMap lookup.
let lastEnv: Env | null = null;
let lastSettings: Result<Settings> | null = null;

function loadSettings(env: Env): Result<Settings> {
  if (env === lastEnv) return lastSettings!;
  let settings = settingsCache.get(env);
  if (settings === undefined) {
    settings = parseSettings(env as unknown as Record<string, unknown>);
    if (!settings.ok)
      emitLog({ event: "misconfigured", level: "error", scope: "settings", errors: settings.errors }, env);
    else if (settings.value.warnings.length > 0)
      emitLog({ event: "settings.warning", level: "warn", warnings: settings.value.warnings }, env);
    settingsCache.set(env, settings);
  }
  lastEnv = env;
  lastSettings = settings;
  return settings;
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    try {
      const loaded = loadSettings(env);
      // Details go to the log (wrangler tail), not to the public.
      if (!loaded.ok) return errorResponse(503, "load balancer misconfigured");
      return await route(request, env, ctx, loaded.value);
    } catch (error) {
      // A defect of ours must still end in one of our short answers, never the runtime's error page.
      emitLog(
        { event: "request.failed", level: "error", error, stack: error instanceof Error ? error.stack : null },
        env,
      );
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
