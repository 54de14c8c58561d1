/**
 * An operator's pin or release of one placement (admin/placement-routes.ts): checked against the
 * stored origins, previewed (the placement before and after), then written with the epoch and an
 * audit entry, or only previewed. A pin is manual: the planner keeps it as is and never releases it.
 */
import type { Placement } from "../core/placement/placement.ts";
import { appendAudit } from "./audit-log.ts";
import { readEpoch } from "./meta.ts";
import { readOriginRows } from "./origin-rows.ts";
import { readPlacements, writePlacements } from "./placement-rows.ts";
import type { ChangeOptions, PlacementChange, PlacementChangeResult } from "./protocol.ts";
import type { StoreHost } from "./store-host.ts";

/** Applies (or previews) one change; call inside a transaction so a refusal writes nothing. */
export function applyPlacementChange(
  host: StoreHost,
  change: PlacementChange,
  options: ChangeOptions,
  now: number,
): PlacementChangeResult {
  const sql = host.storage.sql;
  const epoch = readEpoch(sql);
  if (typeof options.ifMatch === "number" && options.ifMatch !== epoch) {
    return { ok: false, status: 409, field: "If-Match", error: `the epoch is ${epoch}, not ${options.ifMatch}` };
  }
  const placements = readPlacements(sql);
  const before = placements.find((p) => p.key === change.key) ?? null;
  let after: Placement | null = null;
  if (change.op === "pin") {
    const origin = readOriginRows(sql).find((row) => row.id === change.origin);
    if (origin === undefined) return { ok: false, status: 404, field: "origin", error: "no such origin" };
    if (origin.state === "disabled")
      return { ok: false, status: 409, field: "origin", error: "the origin is disabled" };
    after = {
      key: change.key,
      hash: change.hash >>> 0,
      targets: [{ origin: change.origin, weight: 1 }],
      decidedAt: now,
      rate: before?.rate ?? 0,
      manual: true,
    };
  } else if (before === null) {
    return { ok: false, status: 404, field: "key", error: "no placement for this key" };
  }
  const changed =
    after === null ||
    before === null ||
    !before.manual ||
    before.targets.length !== 1 ||
    before.targets[0]!.origin !== after.targets[0]!.origin;
  if (options.dryRun === true || !changed)
    return { ok: true, dryRun: options.dryRun === true, epoch, changed, before, after };
  const rest = placements.filter((p) => p.key !== change.key);
  writePlacements(sql, after === null ? rest : [...rest, after]);
  host.bumpEpoch();
  const next = readEpoch(sql);
  const actor = options.actor ?? null;
  const action = change.op === "pin" ? "pin-placement" : "release-placement";
  appendAudit(sql, now, next, action, { key: change.key, before, after }, actor);
  host.log({ event: "placement.changed", level: "info", action, actor, epoch: next, key: change.key, after }, now);
  return { ok: true, dryRun: false, epoch: next, changed, before, after };
}
