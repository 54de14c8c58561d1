/** The routing view (per-origin weights at an instant) of the isolate's table, cached until it expires. */
import type { Settings } from "../core/config/settings.ts";
import { routingView, type RoutingView } from "../core/routing/routing-view.ts";
import { type RoutingTable } from "../core/routing/routing-table.ts";

// The view (per-origin weights with health, ramps and panic applied) changes only at known
// instants; it is recomputed when the table changes or its validUntil has passed.
let viewOf: { table: RoutingTable; settings: Settings; view: RoutingView } | null = null;

/** The routing view of `table` at `now`, cached until it expires. */
export function viewAt(table: RoutingTable, settings: Settings, now: number): RoutingView {
  if (viewOf === null || viewOf.table !== table || viewOf.settings !== settings || now >= viewOf.view.validUntil) {
    const policy = {
      slowStartMs: settings.slowStartMs,
      drainMs: settings.drainMs,
      panicPercent: settings.panicPercent,
    };
    viewOf = { table, settings, view: routingView(table, policy, now) };
  }
  return viewOf.view;
}
