/**
 * The pool order for a request's location (core/steering.ts), cached per isolate: the order depends
 * only on the client's country, continent and coordinates, which Cloudflare gives per city, so a
 * few hundred entries serve a location's traffic. Pool indices and regions belong to one routing
 * table (the Durable Object's snapshot carries the regions), so the cache starts over when the
 * table changes.
 */
import { CATCH_ALL_POOL } from "../core/model.ts";
import { type RoutingTable } from "../core/routing/routing-table.ts";
import { orderPools, type ClientLocation } from "../core/routing/steering.ts";

/** Entries kept before the cache starts over (a bound, not a tuning knob: an entry is ~100 bytes). */
const MAX_ENTRIES = 4_096;

let cachedFor: RoutingTable | null = null;
const orders = new Map<string, Uint32Array>();

/** Pool indices in the order to try them, or null when there is one pool (no regions). */
export function poolOrder(table: RoutingTable, cf: ClientLocation | undefined): Uint32Array | null {
  if (table.regions.length === 0 || table.pools.length === 1) return null;
  if (cachedFor !== table) {
    orders.clear();
    cachedFor = table;
  }
  const where = cf ?? {};
  // Every input of orderPools, but the continent only without a country (a country names its
  // continent): one part fewer to join on the request path.
  const place = where.country == null ? `~${where.continent ?? ""}` : where.country;
  const key = `${place}|${where.latitude ?? ""}|${where.longitude ?? ""}`;
  let order = orders.get(key);
  if (order === undefined) {
    const indices: number[] = [];
    for (const id of orderPools(table.regions, where, table.defaultRegion).order) {
      const p = table.poolIndex.get(id);
      if (p !== undefined) indices.push(p);
    }
    const catchAll = table.poolIndex.get(CATCH_ALL_POOL);
    if (catchAll !== undefined) indices.push(catchAll);
    order = Uint32Array.from(indices);
    if (orders.size >= MAX_ENTRIES) orders.clear();
    orders.set(key, order);
  }
  return order;
}
