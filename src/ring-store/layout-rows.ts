/**
 * The `pool_layouts` table: every pool's slot layout (owners as little-endian uint16 per slot),
 * with the layouts' version in meta ("layout_epoch"), kept in line with the stored origins.
 */
import type { Settings } from "../core/config/settings.ts";
import { SLOTS_PER_MEMBER } from "../core/ring/maglev.ts";
import { planPoolLayouts, type PoolLayouts, type PoolMember } from "../core/ring/pool-layouts.ts";
import type { SlotLayout } from "../core/ring/slot-layout.ts";
import { emitLog } from "../worker/emit-log.ts";
import { readMeta, writeMeta } from "./meta.ts";
import { isAwaiting } from "../core/health/health.ts";
import { readHealth, readOriginRows, type OriginRow } from "./origin-rows.ts";
import { readRegionIds } from "./region-rows.ts";

/** The RING_SLOTS_PER_ORIGIN the layouts are sized with (the default when the settings are invalid). */
export function slotsPerOrigin(settings: Settings | null): number {
  return settings?.ringSlotsPerOrigin ?? SLOTS_PER_MEMBER;
}

/** The layouts' version: bumped when any pool's layout changes. */
export function readLayoutEpoch(sql: SqlStorage): number {
  return Number(readMeta(sql, "layout_epoch") ?? "0");
}

/** Every stored layout, by pool. */
export function readLayouts(sql: SqlStorage): Record<string, SlotLayout> {
  const rows = sql
    .exec<{
      pool: string;
      epoch: number;
      slots_per_member: number;
      ids: string;
      weights: string;
      owners: ArrayBuffer;
    }>("SELECT pool, epoch, slots_per_member, ids, weights, owners FROM pool_layouts ORDER BY pool")
    .toArray();
  const layouts: Record<string, SlotLayout> = {};
  for (const row of rows) {
    layouts[row.pool] = {
      epoch: row.epoch,
      slotsPerMember: row.slots_per_member,
      ids: JSON.parse(row.ids) as string[],
      weights: JSON.parse(row.weights) as number[],
      owners: new Uint16Array(row.owners.slice(0)),
    };
  }
  return layouts;
}

/** core/ring/pool-layouts.ts planPoolLayouts, with a warning for every pool it refilled. */
export function planLayouts(
  origins: readonly PoolMember[],
  stored: Readonly<Record<string, SlotLayout>>,
  epoch: number,
  regions: ReadonlySet<string>,
  slotsPerMember: number,
): PoolLayouts {
  const planned = planPoolLayouts(origins, stored, epoch, regions, slotsPerMember);
  for (const pool of planned.refilled) {
    // Also for a preview: the refill would happen, and an operator should see that.
    emitLog({
      event: "layout.refilled",
      level: "warn",
      pool,
      layoutEpoch: epoch,
      note: "most of its clients move once",
    });
  }
  return planned;
}

/**
 * Brings the stored slot layouts (one per pool) in line with the stored origins, changing each
 * by the minimum (core/ring/layout-update.ts updateLayout); true if any changed. Call inside the
 * transaction that changed the origins, so a refused change leaves both as they were.
 */
export function syncLayout(sql: SqlStorage, slotsPerMember: number): boolean {
  // An origin still awaiting its first passing probes has no slots yet: nobody moves to it (or
  // anywhere else) until it can serve.
  const rows = readOriginRows(sql);
  const waiting = awaitingIds(rows);
  const origins = rows
    .filter((row) => !waiting.has(row.id))
    .map((row) => ({ id: row.id, weight: row.weight, region: row.region }));
  const stored = readLayouts(sql);
  const epoch = readLayoutEpoch(sql) + 1;
  const { layouts, changed } = planLayouts(origins, stored, epoch, readRegionIds(sql), slotsPerMember);
  if (!changed) return false;
  for (const pool of Object.keys(stored)) {
    if (!(pool in layouts)) sql.exec("DELETE FROM pool_layouts WHERE pool = ?", pool);
  }
  for (const [pool, layout] of Object.entries(layouts)) {
    if (stored[pool] === layout) continue;
    sql.exec(
      `INSERT INTO pool_layouts (pool, epoch, slots_per_member, ids, weights, owners) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(pool) DO UPDATE SET epoch = excluded.epoch, slots_per_member = excluded.slots_per_member,
           ids = excluded.ids, weights = excluded.weights, owners = excluded.owners`,
      pool,
      layout.epoch,
      layout.slotsPerMember,
      JSON.stringify(layout.ids),
      JSON.stringify(layout.weights),
      new Uint16Array(layout.owners).buffer,
    );
  }
  writeMeta(sql, "layout_epoch", String(epoch));
  return true;
}

/**
 * The origins still awaiting their first passing probes (core/health AWAITING_PROBES): they hold
 * no slots, so every layout plan (syncLayout, and the previews in admin-changes.ts) leaves them out.
 */
export function awaitingIds(rows: readonly OriginRow[]): Set<string> {
  return new Set(rows.filter((row) => isAwaiting(readHealth(row))).map((row) => row.id));
}
