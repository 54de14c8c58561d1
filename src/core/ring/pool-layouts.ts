/**
 * The slot layouts a set of origins needs, one per pool (its region when declared, else the
 * catch-all): what the Durable Object stores, previews and ships. Pure.
 */
import { CATCH_ALL_POOL, poolOf, type OriginConfig } from "../model.ts";
import { updateLayout } from "./layout-update.ts";
import type { RingMember } from "./ring.ts";
import { layoutMatches, type SlotLayout } from "./slot-layout.ts";

/** What an origin brings to its pool's layout. */
export type PoolMember = Pick<OriginConfig, "id" | "weight" | "region">;

/** Every pool's layout, whether any differs from the stored ones, and the pools refilled from a held layout. */
export interface PoolLayouts {
  readonly layouts: Record<string, SlotLayout>;
  readonly changed: boolean;
  /** Pools whose held layout could not be changed by the minimum: most of their clients move once. */
  readonly refilled: readonly string[];
}

/**
 * The layouts `origins` need, by pool: a stored layout that still fits is kept as the same
 * object; others are changed by the minimum (or filled) and labelled `epoch`. `regions`: the
 * declared region ids (the pools besides the catch-all).
 */
export function planPoolLayouts(
  origins: readonly PoolMember[],
  stored: Readonly<Record<string, SlotLayout>>,
  epoch: number,
  regions: ReadonlySet<string>,
  slotsPerMember: number,
): PoolLayouts {
  const members = new Map<string, RingMember[]>();
  for (const origin of origins) {
    const pool = poolOf(origin.region, regions);
    const list = members.get(pool) ?? [];
    list.push({ id: origin.id, weight: origin.weight });
    members.set(pool, list);
  }
  // A deployment without origins keeps one empty pool, so there is always a layout to ship.
  if (members.size === 0) members.set(CATCH_ALL_POOL, []);
  let changed = Object.keys(stored).some((pool) => !members.has(pool));
  const layouts: Record<string, SlotLayout> = {};
  const refilled: string[] = [];
  for (const [pool, list] of members) {
    const held = stored[pool] ?? null;
    if (held !== null && held.slotsPerMember === slotsPerMember && layoutMatches(held, list)) {
      layouts[pool] = held;
      continue;
    }
    const update = updateLayout(held, list, slotsPerMember, epoch);
    if (update.refilled && held !== null) refilled.push(pool);
    layouts[pool] = update.layout;
    changed = true;
  }
  return { layouts, changed, refilled };
}
