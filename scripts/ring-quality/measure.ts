/** The simulation's figures for one scheme at one size, and the weighted balance. */
import { log } from "../lib/log.ts";
import type { Clients } from "./clients.ts";
import { assign, changed, originNumber, origins, type Mapper, type Scheme } from "./schemes.ts";

/** `origin-3` is removed and failed; every size has it. */
export const VICTIM = 3;
export const ADDRESSES_PER_PREFIX = 4;
export const WEIGHTS = [1, 1, 1, 1, 1, 2, 2, 2, 4, 4];

export interface Result {
  peak: number;
  min: number;
  removal: { moved: number; ideal: number; peak: number; secondMove: number };
  failure: { moved: number; ideal: number; collateral: number; spread: number };
  /** minimum: the clients the newcomer ends up with, which any scheme must move to it. */
  addition: { moved: number; ideal: number; minimum: number };
  v6: { ours: number; raw: number };
}

export const pct = (share: number): string => `${(share * 100).toFixed(3)} %`;

function countMoved(before: Int32Array, after: Int32Array): number {
  let moved = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moved++;
  return moved;
}

/** Share of /64s whose addresses all have one primary. */
function wholeShare(mapper: Mapper, keys: Uint32Array): number {
  const primaries = assign(mapper, keys);
  let whole = 0;
  for (let p = 0; p < primaries.length; p += ADDRESSES_PER_PREFIX) {
    let same = true;
    for (let a = 1; a < ADDRESSES_PER_PREFIX; a++) same &&= primaries[p + a] === primaries[p];
    if (same) whole++;
  }
  return whole / (primaries.length / ADDRESSES_PER_PREFIX);
}

/** Balance, and the moves on removal, failure and addition, of `scheme` over `n` equal origins. */
export function measure(scheme: Scheme, n: number, { hashes, v6Ours, v6Raw }: Clients): Result {
  const c = hashes.length;
  const members = origins(n);
  const base = scheme.build(members);
  const before = assign(base, hashes);
  const load = new Float64Array(n);
  for (const p of before) load[p]!++;
  const victimShare = load[VICTIM]! / c;

  const removed = assign(
    changed(
      scheme,
      base,
      members.filter((m) => originNumber(m.id) !== VICTIM),
    ),
    hashes,
  );
  const failed = assign(
    base,
    hashes,
    base.ids.map((id) => originNumber(id) !== VICTIM),
  );
  let collateral = 0;
  const heirs = new Set<number>();
  for (let i = 0; i < c; i++) {
    if (before[i] === VICTIM) heirs.add(failed[i]!);
    else if (failed[i] !== before[i]) collateral++;
  }
  const added = assign(changed(scheme, base, origins(n + 1)), hashes);
  // Drain, then remove: the victim's clients already moved once (to their failover heirs);
  // those whose owner after the removal differs move a second time.
  let secondMove = 0;
  let victims = 0;
  const removedLoad = new Float64Array(n);
  for (let i = 0; i < c; i++) {
    removedLoad[removed[i]!]!++;
    if (before[i] !== VICTIM) continue;
    victims++;
    if (failed[i] !== removed[i]) secondMove++;
  }

  const result: Result = {
    peak: Math.max(...load) / (c / n),
    min: Math.min(...load) / (c / n),
    removal: {
      moved: countMoved(before, removed) / c,
      ideal: victimShare,
      peak: Math.max(...removedLoad) / (c / (n - 1)),
      secondMove: secondMove / victims,
    },
    failure: { moved: countMoved(before, failed) / c, ideal: victimShare, collateral, spread: heirs.size },
    addition: {
      moved: countMoved(before, added) / c,
      ideal: 1 / (n + 1),
      minimum: added.filter((p) => p === n).length / c,
    },
    v6: { ours: wholeShare(base, v6Ours), raw: wholeShare(base, v6Raw) },
  };
  log(
    `N=${n} ${scheme.name}: ` +
      `peak/mean ${result.peak.toFixed(4)}, removal moved ${pct(result.removal.moved)} ` +
      `(ideal ${pct(victimShare)}), failure collateral ${collateral}, addition moved ${pct(result.addition.moved)}`,
  );
  return result;
}

/** Load share over weight share, per origin, for 10 origins of weights `WEIGHTS`: the worst deviation. */
export function weightedBalance(scheme: Scheme, hashes: Uint32Array): { deviation: number; worst: string } {
  // Changed from equal weights where the scheme changes layouts: what an operator's reweighting gives.
  const weightSum = WEIGHTS.reduce((x, y) => x + y, 0);
  const weightedMembers = origins(WEIGHTS.length, (i) => WEIGHTS[i]!);
  const primaries = assign(
    scheme.change
      ? scheme.change(scheme.build(origins(WEIGHTS.length)), weightedMembers)
      : scheme.build(weightedMembers),
    hashes,
  );
  const load = new Float64Array(WEIGHTS.length);
  for (const p of primaries) load[p]!++;
  let deviation = 0;
  let worst = "";
  for (let i = 0; i < WEIGHTS.length; i++) {
    const ratio = load[i]! / hashes.length / (WEIGHTS[i]! / weightSum);
    if (Math.abs(ratio - 1) >= deviation) {
      deviation = Math.abs(ratio - 1);
      worst = `origin-${i} (weight ${WEIGHTS[i]}, ratio ${ratio.toFixed(4)})`;
    }
  }
  log(`weighted ${scheme.name}: max |ratio − 1| ${deviation.toFixed(4)}, worst ${worst}`);
  return { deviation, worst };
}
