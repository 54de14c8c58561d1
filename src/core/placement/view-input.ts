/**
 * The edge-wide view (core/traffic/traffic-window.ts) as the planner's rates: per-origin requests
 * per second and the hot keys with their guaranteed rates and estimated users. The view spans every
 * pool; the caller passes the origins and ring of one pool, and the planner ignores rates of
 * origins outside it.
 */
import type { TrafficView } from "../traffic/traffic-window.ts";
import type { PlannerInput } from "./placement.ts";

/** The part of a PlannerInput that comes from the view. */
export function viewRates(
  view: TrafficView,
): Pick<PlannerInput, "originRates" | "keys" | "keyFloorRate" | "measuredMs"> {
  return {
    originRates: Object.fromEntries(view.origins.map((o) => [o.id, o.requestsPerSecond])),
    // An estimate of 0 means nobody counted the users: unknown, not "no users".
    keys: view.keys.map(({ key, hash, rate, users }) => (users > 0 ? { key, hash, rate, users } : { key, hash, rate })),
    keyFloorRate: view.keyFloorRate,
    measuredMs: view.coveredMs,
  };
}
