/**
 * `GET {prefix}/status`: the read-only JSON status (epoch, snapshot age, each origin's state,
 * health and last probe). Who may read it is admin/auth.ts's business (STATUS_PUBLIC or a token).
 */
import type { Context } from "hono";
import type { AppEnv } from "../admin/app-env.ts";
import { cacheStatus } from "../worker/routing-cache.ts";
import { viewAt } from "../worker/view-cache.ts";
import { placementCounters } from "../worker/placement-route.ts";
import { edgeView } from "./edge-view.ts";
import { healthDetail } from "./health-detail.ts";

/** The status handler; mount it behind the status access check: `app.get("/status", requireAccess("status"), statusJson)`. */
export async function statusJson(c: Context<AppEnv>): Promise<Response> {
  const { table: load, now: clock, settings } = c.env.status;
  const cached = await load();
  const cache = cacheStatus();
  if (cached === null)
    return c.json({ epoch: null, source: null, origins: [], error: "no origins configured", cache }, 503);
  const now = clock();
  const view = viewAt(cached.table, settings, now);
  const [detail, edge] = await Promise.all([
    healthDetail(c.env.env, settings.doTimeoutMs),
    edgeView(c.env.env, settings.doTimeoutMs),
  ]);
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
    // Edge-wide (every isolate's reports, the Durable Object's view) and this isolate's cookie verdicts.
    edge,
    placement: {
      placements: [...cached.placements.values()].reduce((n, list) => n + list.length, 0),
      ...placementCounters(),
    },
  });
}
