/**
 * A permanent membership change applied to a slot layout by the minimum (see `updateLayout`): the
 * clients of a removed member, and only those, move; an added member takes exactly its share.
 */
import { permutation, PRIMES, SLOTS_PER_MEMBER, sortMembers } from "./maglev.ts";
import type { RingMember } from "./ring.ts";
import { checkCount, freshLayout, type SlotLayout } from "./slot-layout.ts";

/**
 * The layout for `members`, changed from `previous` by exactly what the change requires, with the
 * result labelled `epoch`. A refill (Maglev from scratch, most clients move) happens only with no
 * previous layout, a changed slotsPerMember, a table that became too small (fewer than half the
 * wanted slots per member), or when no previous member is kept. Otherwise:
 *
 * - the slots of a removed member, and the least preferred surplus slots of a member whose weight
 *   fell, go to the owner of the next slot clockwise that keeps its slots: exactly where the walk
 *   already sends those clients while the member is down or drained, so "drain, then remove"
 *   moves nobody at the removal;
 * - an added member, or one whose weight rose, claims slots along its own Maglev preference order
 *   from members holding more than their new share, until it holds its share.
 *
 * So a removal moves exactly the removed member's clients and an addition exactly the clients
 * the newcomer takes: the minimum. Counts stay within a few slots of the weights: a removal spreads
 * its slots by the walk (a few slots' noise per member), an addition takes from surpluses.
 */
export function updateLayout(
  previous: SlotLayout | null,
  members: readonly RingMember[],
  slotsPerMember = SLOTS_PER_MEMBER,
  epoch = 0,
): { readonly layout: SlotLayout; readonly refilled: boolean } {
  const sorted = sortMembers(members);
  checkCount(sorted.length);
  const n = sorted.length;
  const refill = () => ({ layout: freshLayout(sorted, slotsPerMember, epoch), refilled: true });
  if (previous === null || n === 0 || previous.slotsPerMember !== slotsPerMember) return refill();
  const size = previous.owners.length;
  const largest = PRIMES[PRIMES.length - 1]!;
  if (size < n || size < Math.min(largest, Math.ceil((n * slotsPerMember) / 2))) return refill();

  const ids = sorted.map((member) => member.id);
  const weights = sorted.map((member) => member.weight);
  const indexOf = new Map(ids.map((id, m) => [id, m]));
  // Previous member index → new index, or -1 when removed.
  const renumber = previous.ids.map((id) => indexOf.get(id) ?? -1);
  const previousWeight = new Float64Array(n).fill(NaN);
  previous.ids.forEach((id, old) => {
    const m = renumber[old]!;
    if (m >= 0) previousWeight[m] = previous.weights[old]!;
  });

  const owner = new Int32Array(size);
  const count = new Int32Array(n);
  for (let slot = 0; slot < size; slot++) {
    const m = renumber[previous.owners[slot]!]!;
    owner[slot] = m;
    if (m >= 0) count[m]!++;
  }
  if (!count.some((c) => c > 0)) return refill();
  const target = targets(weights, size);

  // Each member's slots, grouped (counting sort by owner): one pass instead of one per member.
  const start = new Int32Array(n + 1);
  for (let m = 0; m < n; m++) start[m + 1] = start[m]! + count[m]!;
  const slotsBy = new Int32Array(start[n]!);
  const fill = start.slice(0, n);
  for (let slot = 0; slot < size; slot++) if (owner[slot]! >= 0) slotsBy[fill[owner[slot]!]!++] = slot;

  // A member whose weight fell gives up its least preferred slots beyond its new share (and
  // inherits none: it is shrinking).
  const released = new Uint8Array(n);
  for (let m = 0; m < n; m++) {
    if (!(weights[m]! < previousWeight[m]!) || count[m]! <= target[m]!) continue;
    const { offset, skip } = permutation(ids[m]!, size);
    const inverse = modInverse(skip, size);
    // Where a slot comes in m's preference order: (slot − offset) / skip mod size.
    const rank = (slot: number) => (((slot - offset + size) % size) * inverse) % size;
    const mine = Array.from(slotsBy.subarray(start[m]!, start[m + 1]!)).sort((x, y) => rank(y) - rank(x));
    for (const slot of mine.slice(0, count[m]! - target[m]!)) owner[slot] = -1;
    count[m] = target[m]!;
    released[m] = 1;
  }

  // Free slots go to the next slot clockwise whose owner keeps its slots and is below its new
  // share plus heirSlack: the walk's choice, except when that member is full (then the next one
  // along), which bounds the imbalance at the cost of a second move for those few clients. A
  // member that gave up surplus counts as full, so it never takes its own slots back: the walk
  // skips it too. `live` skips slots that cannot take heirs (free, or their owner is full), with path
  // compression, so the whole pass is near-linear.
  const live = new Int32Array(size);
  let liveCount = 0;
  // No slack when some member grows: an heir above its share would then give slots to the grower,
  // and a slot inherited and a slot given away are two moves where none was needed.
  let anyGrows = false;
  for (let m = 0; m < n; m++) anyGrows ||= !(weights[m]! <= previousWeight[m]!) && count[m]! < target[m]!;
  const full = (m: number) => released[m] === 1 || count[m]! >= target[m]! + (anyGrows ? 0 : heirSlack(target[m]!));
  for (let slot = 0; slot < size; slot++) {
    const alive = owner[slot]! >= 0 && !full(owner[slot]!);
    live[slot] = alive ? slot : slot + 1 === size ? 0 : slot + 1;
    if (alive) liveCount++;
  }
  const find = (from: number) => {
    let root = from;
    while (live[root] !== root) root = live[root]!;
    for (let at = from; live[at] !== root;) [at, live[at]] = [live[at]!, root];
    return root;
  };
  const heirs = new Int32Array(size).fill(-1);
  // In slot order, each heir counted at once, so the cap sees earlier heirs.
  for (let slot = 0; slot < size && liveCount > 0; slot++) {
    if (owner[slot]! >= 0) continue;
    const heir = owner[find(slot + 1 === size ? 0 : slot + 1)]!;
    heirs[slot] = heir;
    count[heir]!++;
    if (full(heir)) {
      for (let i = start[heir]!; i < start[heir + 1]!; i++) {
        const at = slotsBy[i]!;
        if (owner[at] === heir && live[at] === at) {
          live[at] = at + 1 === size ? 0 : at + 1;
          liveCount--;
        }
      }
    }
  }
  // Slots no kept member could take (every one holds its share) wait for a newcomer's claim below.
  for (let slot = 0; slot < size; slot++) if (heirs[slot]! >= 0) owner[slot] = heirs[slot]!;

  // Newcomers and members whose weight rose claim slots along their preference order from members
  // above their share, taking turns one slot at a time (Maglev's fill, over the surplus only).
  const surplus = new Int32Array(n);
  for (let m = 0; m < n; m++) surplus[m] = Math.max(0, count[m]! - target[m]!);
  const claimers: { m: number; position: number; skip: number; steps: number }[] = [];
  for (let m = 0; m < n; m++) {
    const grows = Number.isNaN(previousWeight[m]!) || weights[m]! > previousWeight[m]!;
    if (grows && count[m]! < target[m]!) {
      const { offset, skip } = permutation(ids[m]!, size);
      claimers.push({ m, position: offset, skip, steps: 0 });
      surplus[m] = 0;
    }
  }
  while (claimers.length > 0) {
    for (let c = 0; c < claimers.length; c++) {
      const claimer = claimers[c]!;
      let claimed = false;
      while (claimer.steps < size) {
        const slot = claimer.position;
        claimer.position += claimer.skip;
        if (claimer.position >= size) claimer.position -= size;
        claimer.steps++;
        const holder = owner[slot]!;
        if (holder < 0 || (holder !== claimer.m && surplus[holder]! > 0)) {
          if (holder >= 0) {
            surplus[holder]!--;
            count[holder]!--;
          }
          owner[slot] = claimer.m;
          count[claimer.m]!++;
          claimed = true;
          break;
        }
      }
      if (!claimed || count[claimer.m]! >= target[claimer.m]!) claimers.splice(c--, 1);
    }
  }

  // Cannot happen (the deficits cover every unclaimed slot); refilling beats shipping a hole.
  if (owner.includes(-1)) return refill();
  return { layout: { epoch, ids, weights, slotsPerMember, owners: Uint16Array.from(owner) }, refilled: false };
}

/**
 * How far above its share a member may inherit slots on a removal: 1 % of its share, at least one
 * slot. Without it, a member already at its share would pass a drained origin's clients on to
 * the next member along, and they would move twice (drain, then removal): at 100 origins a third
 * of them, at 1,000 nearly all. With it, 2–8 % move twice and no member holds more than 1 % (or
 * one slot) above its share; the next addition takes from those above their share first.
 */
export function heirSlack(target: number): number {
  return Math.max(1, Math.floor(target / 100));
}

/** Slots per member by weight, rounded by largest remainder (ties to the lower id): they sum to `size`. */
function targets(weights: readonly number[], size: number): Int32Array {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const target = new Int32Array(weights.length);
  const remainders = weights.map((weight, m) => {
    const quota = (weight / total) * size;
    target[m] = Math.floor(quota);
    return { m, remainder: quota - Math.floor(quota) };
  });
  let left = size - target.reduce((sum, t) => sum + t, 0);
  remainders.sort((a, b) => b.remainder - a.remainder || a.m - b.m);
  for (let i = 0; left > 0; i = (i + 1) % remainders.length, left--) target[remainders[i]!.m]!++;
  return target;
}

/** a⁻¹ mod p for a prime p (extended Euclid); products stay below 2^40, exact in doubles. */
function modInverse(a: number, p: number): number {
  let [oldR, r] = [a, p];
  let [oldS, s] = [1, 0];
  while (r !== 0) {
    const q = Math.floor(oldR / r);
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % p) + p) % p;
}
