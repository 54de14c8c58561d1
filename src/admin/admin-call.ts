/**
 * What every admin route that changes the ring store shares: the Durable Object call bounded by
 * ADMIN_TIMEOUT_MS (a hung object gives 503 through reserved-routes.ts's onError, never a request
 * that never ends), the `dry_run` flag, and the refresh that lets this isolate route on a change
 * at once (the others within SNAPSHOT_TTL_MS).
 */
import type { Context } from "hono";
import { withTimeout } from "../worker/do-call.ts";
import { locationFor } from "../worker/location-cache.ts";
import { refreshSoon } from "../worker/routing-cache.ts";
import type { AppEnv } from "./app-env.ts";

/** `call`, or a rejection after ADMIN_TIMEOUT_MS. */
export const bounded = <T>(c: Context<AppEnv>, call: Promise<T>): Promise<T> =>
  withTimeout(call, c.env.status.settings.adminTimeoutMs);

/** `?dry_run`: absent, 0 or false → false; present, 1 or true → true; anything else null. */
export function flagQuery(value: string | undefined): boolean | null {
  if (value === undefined || value === "0" || value === "false") return false;
  if (value === "" || value === "1" || value === "true") return true;
  return null;
}

/** After an applied change: this isolate fetches the new epoch now. */
export function refreshAfterChange(c: Context<AppEnv>, epoch: number): void {
  const { settings } = c.env.status;
  const location = locationFor(new URL(c.req.url).origin, settings, c.env.env);
  refreshSoon(c.env.env, settings, c.executionCtx as ExecutionContext, epoch, location);
}
