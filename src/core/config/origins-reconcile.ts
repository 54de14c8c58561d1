/**
 * What an edited ORIGINS does to a running object (README "ORIGINS"). The edit is applied as a
 * diff against the list it was last applied from, not against the stored origins: an origin
 * the edit removed is removed, one it added is added, one whose entry it changed takes the new
 * url / weight / region; every other stored origin is left as it is, so origins added through
 * the admin API and admin changes to origins the edit did not touch stand. `wrangler rollback`
 * to an older list is the same: the older list is an edit of the newer one. Pure.
 */
import type { OriginConfig } from "../model.ts";

/** The writes an edit of ORIGINS makes. */
export interface OriginsReconcile {
  /** New ids (inserted), or ids the edit names that are not stored (re-inserted). */
  readonly insert: readonly OriginConfig[];
  /** Stored origins whose entry the edit changed (or added with an id already stored). */
  readonly update: readonly OriginConfig[];
  /** Stored origins the previous list had and the edit dropped. */
  readonly remove: readonly string[];
  /** Stored origins neither list names: made through the admin API, kept (and logged as kept). */
  readonly kept: readonly string[];
}

/**
 * The diff from `previous` (the list last applied; null when none was, as in an object from
 * before lists were recorded: then every stored origin missing from `next` is removed, the old
 * behaviour) to `next`, given the ids stored now.
 */
export function reconcileOrigins(
  previous: readonly OriginConfig[] | null,
  next: readonly OriginConfig[],
  stored: ReadonlySet<string>,
): OriginsReconcile {
  const before = new Map((previous ?? []).map((origin) => [origin.id, origin]));
  const wanted = new Set(next.map((origin) => origin.id));
  const insert: OriginConfig[] = [];
  const update: OriginConfig[] = [];
  for (const origin of next) {
    const was = before.get(origin.id);
    if (!stored.has(origin.id)) insert.push(origin);
    else if (previous === null || was === undefined || !sameEntry(was, origin)) update.push(origin);
  }
  const remove: string[] = [];
  const kept: string[] = [];
  for (const id of [...stored].sort()) {
    if (wanted.has(id)) continue;
    if (previous === null || before.has(id)) remove.push(id);
    else kept.push(id);
  }
  return { insert, update, remove, kept };
}

function sameEntry(a: OriginConfig, b: OriginConfig): boolean {
  return a.url === b.url && a.weight === b.weight && a.region === b.region;
}
