/**
 * The edge-wide traffic view as the status views show it (README "Load-aware placement"): per
 * origin the request and error rates every isolate reported, with the bound of the last plan, and
 * the hot keys with where they are placed. The Durable Object's, so the same from every isolate.
 */
import type { Placement } from "../core/placement/placement.ts";
import type { TrafficStatus } from "../ring-store/protocol.ts";
import { answerOrNull, ringStub } from "../worker/do-call.ts";
import type { Env } from "../worker/env.ts";

/** One origin's edge-wide figures. */
export interface EdgeOrigin {
  readonly id: string;
  readonly requestsPerSecond: number;
  readonly errorsPerSecond: number;
  /** The last plan's bound (requests/s; null before a plan or when the bound is off). */
  readonly bound: number | null;
  /** The load the last plan expects with its placements. */
  readonly plannedPerSecond: number | null;
}

/** One hot key: its share of the edge's keyed requests and its placement, if any. */
export interface EdgeKey {
  readonly key: string;
  readonly share: number;
  readonly requestsPerSecond: number;
  readonly users: number;
  /** The placement's targets (origin and share of the key's users), or null when the ring decides. */
  readonly placedOn: Placement["targets"] | null;
  readonly split: boolean;
  readonly manual: boolean;
  readonly decidedAt: number | null;
}

/** What the status JSON's `edge` field and the page's section show. */
export interface EdgeView {
  readonly boundFactor: number;
  /** How far back the rates look (ms actually covered by reports). */
  readonly coveredMs: number;
  readonly windowMs: number;
  readonly reports: number;
  readonly requestsPerSecond: number;
  readonly plannedAt: number | null;
  readonly withinBound: boolean | null;
  readonly origins: readonly EdgeOrigin[];
  readonly keys: readonly EdgeKey[];
  /** Placements whose key is not among the hot keys now (a pin, or a key gone quiet but still held). */
  readonly otherPlacements: readonly Placement[];
}

/** The view, or null when the Durable Object fails, does not answer in time, or placement is misconfigured. */
export async function edgeView(env: Env, timeoutMs: number): Promise<EdgeView | null> {
  const status = await answerOrNull(() => ringStub(env).getTraffic() as Promise<TrafficStatus | null>, timeoutMs);
  return status === null ? null : shapeEdgeView(status);
}

/** The status JSON's shape of the object's answer. */
export function shapeEdgeView(status: TrafficStatus): EdgeView {
  const { view, placements, pools } = status;
  const plans = Object.values(pools);
  const bound = (id: string) => plans.find((plan) => id in plan.bound)?.bound[id] ?? null;
  const after = (id: string) => plans.find((plan) => id in plan.after)?.after[id] ?? null;
  const byKey = new Map(placements.map((p) => [p.key, p]));
  return {
    boundFactor: status.boundFactor,
    coveredMs: view.coveredMs,
    windowMs: view.windowMs,
    reports: view.reports,
    requestsPerSecond: view.requestsPerSecond,
    plannedAt: status.plannedAt,
    withinBound: plans.length === 0 ? null : plans.every((plan) => plan.withinBound),
    origins: view.origins.map((o) => {
      const b = bound(o.id);
      return {
        id: o.id,
        requestsPerSecond: o.requestsPerSecond,
        errorsPerSecond: o.errorsPerSecond,
        bound: b === null || !Number.isFinite(b) ? null : b,
        plannedPerSecond: after(o.id),
      };
    }),
    keys: view.keys.map((k) => {
      const placed = byKey.get(k.key) ?? null;
      return {
        key: k.key,
        share: k.share,
        requestsPerSecond: k.rate,
        users: Math.round(k.users),
        placedOn: placed?.targets ?? null,
        split: (placed?.targets.length ?? 0) > 1,
        manual: placed?.manual ?? false,
        decidedAt: placed?.decidedAt ?? null,
      };
    }),
    otherPlacements: placements.filter((p) => !view.keys.some((k) => k.key === p.key)),
  };
}
