/**
 * The admin API's changes as the object applies them: checked against the stored state, previewed
 * (who would move), then written with the layouts, the epoch and the audit log, or only previewed.
 */
import { MAX_ORIGINS } from "../core/config/origins.ts";
import { previewPools, type AdminChange, type Preview } from "../core/admin/admin.ts";
import { emptyPreview } from "../core/admin/empty-preview.ts";
import { INITIAL_HEALTH, toView } from "../core/health/health.ts";
import type { OriginRecord } from "../core/model.ts";
import { appendAudit } from "./audit-log.ts";
import { awaitingIds, planLayouts, slotsPerOrigin, syncLayout } from "./layout-rows.ts";
import { readEpoch } from "./meta.ts";
import {
  addressChanged,
  deleteOrigin,
  insertOrigin,
  readHealth,
  readOriginRows,
  updateOriginAddress,
  updateOriginState,
  type OriginRow,
} from "./origin-rows.ts";
import type { ChangeOptions, ChangeResult } from "./protocol.ts";
import { readRegionIds, writeRegions } from "./region-rows.ts";
import { readStoredState } from "./snapshot.ts";
import type { StoreHost } from "./store-host.ts";

type OriginChange = Exclude<AdminChange, { op: "set-regions" }>;
type RegionsChange = Extract<AdminChange, { op: "set-regions" }>;

/**
 * Applies one admin change (or only previews it), validated against the stored state. Call inside
 * one transaction, so a refused change writes nothing. The shape of `change` is checked by
 * core/admin/admin.ts before it gets here.
 */
export function applyAdminChange(
  host: StoreHost,
  change: AdminChange,
  options: ChangeOptions,
  now: number,
): ChangeResult {
  const epoch = readEpoch(host.storage.sql);
  if (options.ifMatch !== undefined && options.ifMatch !== null && options.ifMatch !== epoch) {
    return { ok: false, status: 409, field: "If-Match", error: `epoch is ${epoch}, not ${options.ifMatch}` };
  }
  if (change.op === "set-regions") return applyRegions(host, change, options, now);
  return applyOriginChange(host, change, options, now);
}

/** An add, update, state change or removal; refused (404 / 409) when its origin is missing, or for an add present or one too many. */
function applyOriginChange(host: StoreHost, change: OriginChange, options: ChangeOptions, now: number): ChangeResult {
  const sql = host.storage.sql;
  const epoch = readEpoch(sql);
  const rows = readOriginRows(sql);
  const id = change.op === "add" ? change.origin.id : change.id;
  const row = rows.find((candidate) => candidate.id === id);
  if (change.op === "add") {
    if (row !== undefined) return { ok: false, status: 409, field: "id", error: `origin "${id}" already exists` };
    if (rows.length >= MAX_ORIGINS) {
      return { ok: false, status: 409, field: "id", error: `already ${rows.length} origins; at most ${MAX_ORIGINS}` };
    }
  } else if (row === undefined) {
    return { ok: false, status: 404, field: "id", error: `no origin "${id}"` };
  }

  const before = readStoredState(sql);
  const records = new Map(before.origins.map((origin) => [origin.id, origin]));
  const write = planOriginWrite(sql, change, row, records, now);
  if (write === null) {
    return { ok: true, dryRun: options.dryRun === true, epoch, changed: false, preview: emptyPreview() };
  }
  const afterOrigins = [...records.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const regionIds = readRegionIds(sql);
  const slots = slotsPerOrigin(host.settings);
  // Origins awaiting their first probes hold no slots, so they stay out of the plan too; the origin
  // this change adds is in it (it is not stored yet): the preview shows the move when it joins.
  const waiting = awaitingIds(rows);
  const planned = afterOrigins.filter((origin) => !waiting.has(origin.id));
  const afterLayouts = planLayouts(planned, before.layouts, before.layoutEpoch + 1, regionIds, slots).layouts;
  const preview = previewPools(
    { ...before, regionIds },
    { layouts: afterLayouts, origins: afterOrigins, regionIds },
    now,
  );
  if (options.dryRun === true) return { ok: true, dryRun: true, epoch, changed: false, preview };
  return commitChange(host, change, options, now, preview, write);
}

/**
 * Puts `change` into `records` (the origins as they will be) and returns the write that stores
 * it, or null when it changes nothing. `row` is the changed origin's (none for an add).
 */
function planOriginWrite(
  sql: SqlStorage,
  change: OriginChange,
  row: OriginRow | undefined,
  records: Map<string, OriginRecord>,
  now: number,
): (() => void) | null {
  switch (change.op) {
    case "add": {
      const drainStartedAt = change.state === "draining" ? now : null;
      records.set(change.origin.id, {
        ...change.origin,
        state: change.state,
        drainStartedAt,
        health: toView(INITIAL_HEALTH), // the preview shows the move that happens when it joins
      });
      return () => insertOrigin(sql, change.origin, change.state, drainStartedAt);
    }
    case "remove":
      records.delete(change.id);
      return () => deleteOrigin(sql, change.id);
    case "update": {
      const current = records.get(change.id)!;
      const next = { ...current, ...change.fields };
      if (!addressChanged(row!, next)) return null;
      // A new address is a new server: its health starts over (as with an edited ORIGINS).
      records.set(change.id, next.url === current.url ? next : { ...next, health: toView(INITIAL_HEALTH) });
      return () => updateOriginAddress(sql, row!, next);
    }
    case "set-state": {
      if (row!.state === change.state) return null;
      const health = readHealth(row!);
      // Re-activation starts a slow start; draining starts the drain ramp.
      const nextHealth = change.state === "active" ? { ...health, recoveredAt: now } : health;
      const drainStartedAt = change.state === "draining" ? now : null;
      records.set(change.id, {
        ...records.get(change.id)!,
        state: change.state,
        drainStartedAt,
        health: toView(nextHealth),
      });
      return () => updateOriginState(sql, change.id, change.state, drainStartedAt, nextHealth);
    }
  }
}

/**
 * Replaces the regions (inside applyAdminChange's transaction): origins whose region is no longer
 * declared join the catch-all pool, origins of a newly declared region leave it; every pool's
 * layout changes by the minimum.
 */
function applyRegions(host: StoreHost, change: RegionsChange, options: ChangeOptions, now: number): ChangeResult {
  const sql = host.storage.sql;
  const epoch = readEpoch(sql);
  const before = readStoredState(sql);
  if (
    JSON.stringify(before.regions) === JSON.stringify(change.regions) &&
    before.defaultRegion === change.defaultRegion
  ) {
    return { ok: true, dryRun: options.dryRun === true, epoch, changed: false, preview: emptyPreview() };
  }
  const regionIds = new Set(change.regions.map((region) => region.id));
  const slots = slotsPerOrigin(host.settings);
  const waiting = awaitingIds(readOriginRows(sql));
  const planned = before.origins.filter((origin) => !waiting.has(origin.id));
  const afterLayouts = planLayouts(planned, before.layouts, before.layoutEpoch + 1, regionIds, slots).layouts;
  const preview = previewPools(
    { ...before, regionIds: readRegionIds(sql) },
    { layouts: afterLayouts, origins: before.origins, regionIds },
    now,
  );
  if (options.dryRun === true) return { ok: true, dryRun: true, epoch, changed: false, preview };
  return commitChange(host, change, options, now, preview, () =>
    writeRegions(sql, change.regions, change.defaultRegion),
  );
}

/** Writes a previewed change, then the layouts, the epoch, the audit entry and the config.changed line, in that order. */
function commitChange(
  host: StoreHost,
  change: AdminChange,
  options: ChangeOptions,
  now: number,
  preview: Preview,
  write: () => void,
): ChangeResult {
  const sql = host.storage.sql;
  write();
  syncLayout(sql, slotsPerOrigin(host.settings));
  host.bumpEpoch();
  const epoch = readEpoch(sql);
  const actor = options.actor ?? null;
  appendAudit(sql, now, epoch, change.op, { ...change, moved: preview.share }, actor);
  host.log(
    { event: "config.changed", level: "info", action: change.op, actor, epoch, change, moved: preview.share },
    now,
  );
  return { ok: true, dryRun: false, epoch, changed: true, preview };
}
