/**
 * The bootstrap variables, reconciled with the stored state when the object starts: REGIONS and
 * DEFAULT_REGION, then ORIGINS. Each is applied again only when it differs from what it was last
 * applied from (its fingerprint in meta), so changes made through the admin API stand until a
 * deploy edits the variable itself.
 */
import { parseOrigins } from "../core/config/origins.ts";
import { AWAITING_PROBES, INITIAL_HEALTH } from "../core/health/health.ts";
import { reconcileOrigins, type OriginsReconcile } from "../core/config/origins-reconcile.ts";
import type { OriginConfig } from "../core/model.ts";
import type { FieldError } from "../core/result.ts";
import { appendAudit } from "./audit-log.ts";
import { slotsPerOrigin, syncLayout } from "./layout-rows.ts";
import { readEpoch, readMeta, writeMeta } from "./meta.ts";
import { addressChanged, deleteOrigin, insertOrigin, readOriginRows, updateOriginAddress } from "./origin-rows.ts";
import { readRegions, writeRegions } from "./region-rows.ts";
import type { StoreHost } from "./store-host.ts";

/**
 * REGIONS and DEFAULT_REGION, like ORIGINS: they seed the object, and are applied again only when
 * they differ from what was last applied from them (a deploy that edits them); regions changed
 * through the admin API stand until then. Invalid settings change nothing (the object then has
 * no settings, and the worker answers 503 misconfigured). The layouts follow in the constructor.
 */
export function applyRegionBootstrap(host: StoreHost): void {
  if (host.settings === null) return;
  const { regions, defaultRegion } = host.settings;
  const sql = host.storage.sql;
  const fingerprint = JSON.stringify({ regions, defaultRegion });
  if (readMeta(sql, "regions_bootstrap") === fingerprint) return;
  host.storage.transactionSync(() => {
    const stored = readRegions(sql);
    if (JSON.stringify(stored.regions) !== JSON.stringify(regions) || stored.defaultRegion !== defaultRegion) {
      writeRegions(sql, regions, defaultRegion);
      host.bumpEpoch();
      appendAudit(
        sql,
        Date.now(),
        readEpoch(sql),
        "bootstrap-regions",
        { regions: regions.map((r) => r.id) },
        "REGIONS",
      );
      const ids = regions.map((r) => r.id);
      host.log({
        event: "config.changed",
        level: "info",
        action: "bootstrap-regions",
        actor: "REGIONS",
        epoch: readEpoch(sql),
        regions: ids,
      });
    }
    writeMeta(sql, "regions_bootstrap", fingerprint);
  });
}

/**
 * ORIGINS seeds an empty object. Afterwards the stored state is the truth, and ORIGINS is applied
 * again only when it differs from the list it was last applied from (a deploy that edits it, or
 * a rollback), as the diff between the two lists (core/config/origins-reconcile.ts): what the
 * edit removed, added or changed; origins made through the admin API are kept and named in the
 * log line and the audit entry. Administrative states are kept (and health unless the url
 * changed). An invalid ORIGINS changes nothing; the errors it returns are reported in every
 * snapshot (none when ORIGINS is valid).
 */
export function applyOriginBootstrap(host: StoreHost, origins: unknown): FieldError[] {
  const parsed = parseOrigins(origins);
  if (!parsed.ok) {
    host.log({ event: "misconfigured", level: "error", scope: "ORIGINS", applied: false, errors: parsed.errors });
    return parsed.errors;
  }
  const sql = host.storage.sql;
  const fingerprint = JSON.stringify(parsed.value);
  const last = readMeta(sql, "bootstrap");
  if (last === fingerprint) return [];
  host.storage.transactionSync(() => {
    const plan = reconcileOrigins(lastList(last), parsed.value, new Set(readOriginRows(sql).map((row) => row.id)));
    if (applyReconcile(sql, plan)) {
      syncLayout(sql, slotsPerOrigin(host.settings));
      host.bumpEpoch();
      const detail = {
        origins: parsed.value.map((o) => o.id),
        added: plan.insert.map((o) => o.id),
        updated: plan.update.map((o) => o.id),
        removed: plan.remove,
        // Made through the admin API, not named by either list: kept, and said so.
        keptFromAdmin: plan.kept,
      };
      appendAudit(sql, Date.now(), readEpoch(sql), "bootstrap", detail, "ORIGINS");
      host.log({
        event: "config.changed",
        level: "info",
        action: "bootstrap",
        actor: "ORIGINS",
        epoch: readEpoch(sql),
        ...detail,
      });
    }
    writeMeta(sql, "bootstrap", fingerprint);
  });
  return [];
}

/** The list ORIGINS was last applied from (meta "bootstrap"), or null when none was recorded. */
function lastList(fingerprint: string | null): OriginConfig[] | null {
  if (fingerprint === null) return null;
  try {
    const list = JSON.parse(fingerprint) as unknown;
    return Array.isArray(list) ? (list as OriginConfig[]) : null;
  } catch {
    return null;
  }
}

/** Writes the reconcile plan (states kept); true if anything changed. */
function applyReconcile(sql: SqlStorage, plan: OriginsReconcile): boolean {
  const existing = new Map(readOriginRows(sql).map((row) => [row.id, row]));
  let changed = false;
  for (const id of plan.remove) {
    deleteOrigin(sql, id);
    changed = true;
  }
  for (const origin of plan.insert) {
    // The first seed trusts the configuration; an origin added later waits for its probes.
    insertOrigin(sql, origin, "active", null, existing.size === 0 ? INITIAL_HEALTH : AWAITING_PROBES);
    changed = true;
  }
  for (const origin of plan.update) {
    const row = existing.get(origin.id)!;
    if (!addressChanged(row, origin)) continue;
    updateOriginAddress(sql, row, origin);
    changed = true;
  }
  return changed;
}
