/**
 * The load-aware placement planner: from the edge-wide view of one pool (per-origin and per-hot-key
 * request rates) and the placements in force, the placements that keep every origin under
 * LOAD_BOUND_FACTOR × the pool's mean load per unit weight while moving the fewest requests.
 *
 * 1. Held placements stay as they are (a user moved once stays moved) until the imbalance they
 *    answered is clearly over (release-held.ts: RELEASE_MARGIN below the bound, after `holdMs`, one
 *    traffic window, before which the view still mixes traffic from before the move). A target that
 *    is down or draining is not re-decided: its users follow the ring to the target's successor and
 *    return with it; a target removed from the pool is dropped.
 * 2. Then origins over the bound are relieved by moving keys still on their ring primary
 *    (relieve.ts): whole keys first, a split for a key with many users, the fewest requests moved.
 *    A key moves at most once per plan and a held key is never moved again, so nobody flaps; keys
 *    not placed never move at all.
 *
 * Pure and deterministic: keys, held placements and origins are put in a canonical order first, so
 * the same view gives the same plan in any input order, in every isolate and every restart.
 */
import type { Decision, KeyState } from "./key-state.ts";
import {
  byHashThenKey,
  MAX_SPLIT,
  RELEASE_MARGIN,
  type Placement,
  type PlacementPlan,
  type PlacementTarget,
  type PlannerInput,
} from "./placement.ts";
import {
  fullWalk,
  measuredShares,
  movedFraction,
  poolLoad,
  primaryMember,
  resolveShares,
  type Share,
} from "./pool-load.ts";
import { relieve } from "./relieve.ts";
import { releaseHeld } from "./release-held.ts";

const cleanRate = (rate: number) => (rate > 0 && Number.isFinite(rate) ? rate : 0);

/** Plans the placements of one pool at `input.now`. */
export function planPlacements(input: PlannerInput): PlacementPlan {
  const { ring, now, settings } = input;
  const ids = ring.ids;
  const inPool = new Set(ids);
  const eligibleIds = new Set(input.origins.filter((o) => o.eligible && o.weight > 0).map((o) => o.id));
  const eligible = Uint8Array.from(ids, (id) => (eligibleIds.has(id) ? 1 : 0));
  const index = new Map(ids.map((id, m) => [id, m]));

  // Canonical order: listed keys by hash then text (the larger rate of a duplicate), held by the
  // same order with the earliest decision first, so the first of a duplicate is the same everywhere.
  const rates = new Map<string, { hash: number; rate: number; users: number | null }>();
  for (const { key, hash, rate, users } of input.keys) {
    const seen = rates.get(key);
    if (seen === undefined || cleanRate(rate) > seen.rate) {
      rates.set(key, { hash: hash >>> 0, rate: cleanRate(rate), users: users ?? null });
    }
  }
  const heldByKey = new Map<string, Placement>();
  for (const p of [...input.held].sort((a, b) => byHashThenKey(a, b) || a.decidedAt - b.decidedAt)) {
    if (!heldByKey.has(p.key)) heldByKey.set(p.key, p);
  }
  const floor = cleanRate(input.keyFloorRate ?? 0);
  const names = new Set([...rates.keys(), ...heldByKey.keys()]);
  const keys: KeyState[] = [...names]
    .map((key) => {
      const held = heldByKey.get(key) ?? null;
      const listed = rates.get(key);
      const hash = listed?.hash ?? held!.hash >>> 0;
      const walk = fullWalk(ring, hash);
      const primary = primaryMember(walk, eligible);
      const present = held === null ? [] : held.targets.filter((t) => inPool.has(t.origin) && t.weight >= 0);
      // A removed target's share goes to the others in proportion, so the key is accounted whole.
      const kept = present.length === held?.targets.length ? present : normalize(present);
      const shares = kept.length > 0 ? resolveShares(kept, walk, { index, eligible }) : [];
      const before: Share[] = shares.length > 0 ? shares : primary >= 0 ? [[primary, 1]] : [];
      const decision: Decision = held !== null && kept.length > 0 ? "held" : held !== null ? "released" : "natural";
      return {
        key,
        hash,
        rate: listed?.rate ?? floor,
        users: listed?.users ?? null,
        walk,
        primary,
        held,
        kept,
        before,
        after: before,
        targets: kept,
        decision,
      };
    })
    .sort(byHashThenKey);

  const windowMs = input.measuredMs ?? settings.holdMs;
  const measured = keys.map((k) =>
    k.decision === "held" ? measuredShares(k.before, k.primary, k.held!.decidedAt, now, windowMs) : k.before,
  );
  const load = poolLoad(
    input,
    keys,
    measured,
    keys.map((k) => k.before),
  );
  const before = Float64Array.from(load.load);
  const anyEligible = eligible.some((e) => e === 1);
  const margin = settings.releaseMargin ?? RELEASE_MARGIN;
  const maxSplit = Math.max(2, Math.floor(settings.maxSplit ?? MAX_SPLIT));
  if (anyEligible) releaseHeld(load, keys, settings.boundFactor, settings.holdMs, margin, now);
  if (settings.boundFactor > 0 && anyEligible) relieve(load, keys, maxSplit);

  const placements: Placement[] = [];
  const changed: string[] = [];
  let movedRate = 0;
  for (const state of keys) {
    movedRate += state.rate * movedFraction(state.before, state.after);
    if (state.decision === "held") {
      const same = state.kept.length === state.held!.targets.length;
      placements.push(same ? state.held! : { ...state.held!, targets: state.kept });
      if (!same) changed.push(state.key);
    } else if (state.decision === "new") {
      placements.push({
        key: state.key,
        hash: state.hash,
        targets: state.targets,
        decidedAt: now,
        rate: state.rate,
        manual: false,
      });
      changed.push(state.key);
    } else if (state.decision === "released" && state.held !== null) changed.push(state.key);
  }
  const record = (values: Float64Array) =>
    Object.fromEntries(ids.flatMap((id, m) => (eligible[m] === 1 ? [[id, values[m]!]] : [])));
  const withinBound = ids.every((_, m) => eligible[m] !== 1 || load.load[m]! <= load.cap[m]! * (1 + 1e-9));
  return {
    decidedAt: now,
    placements,
    changed,
    movedRate,
    movedShare: load.total > 0 ? movedRate / load.total : 0,
    loads: { before: record(before), after: record(load.load), bound: record(load.cap) },
    withinBound: anyEligible && withinBound,
  };
}

function normalize(targets: readonly PlacementTarget[]): PlacementTarget[] {
  const sum = targets.reduce((s, t) => s + t.weight, 0);
  return targets.map((t) => ({ origin: t.origin, weight: sum > 0 ? t.weight / sum : 1 / targets.length }));
}
