/**
 * A balanced ring: M equally spaced points ("slots") whose owners are chosen by Maglev's
 * permutation fill (Eisenbud et al., "Maglev", NSDI 2016, §3.4): every member walks its own
 * pseudo-random permutation of the slots, derived from its id only, and members take turns
 * claiming their next free preferred slot, in proportion to their weights. Each member ends up
 * owning its weight's share of the slots to within one slot, so the load is as even as the keys
 * allow, where random virtual nodes leave ~1/√points of imbalance.
 *
 * It returns the same `Ring` shape as `buildRing`, so `walkRing` serves it unchanged: a failed or
 * draining member is skipped on the walk (its slots fall to the next slot's owner, and adjacent
 * slots have pseudo-random owners, so its clients spread over many members while nobody else
 * moves). A permanent membership change refills the table; Maglev keeps most slots where they
 * were, with a small excess over the ideal that `scripts/ring-quality.ts` measures.
 */
import { xxh32String } from "../hash.ts";
import { indexPoints, type Ring, type RingMember } from "./ring.ts";

/** Table sizes: primes, so every skip in 1..M−1 visits every slot (Maglev §3.4). */
const PRIMES = [65_537, 131_071, 262_139, 524_287] as const;

/** Default slots per member: the table is the smallest listed prime with at least this many per member. */
export const SLOTS_PER_MEMBER = 100;

// Fixed seeds for the two permutation hashes; changing them moves every client.
const OFFSET_SEED = 0x5107_0ff5;
const SKIP_SEED = 0x5107_5c1b;

/** The table size for `count` members. */
export function slotCount(count: number, slotsPerMember = SLOTS_PER_MEMBER): number {
  const wanted = count * slotsPerMember;
  return PRIMES.find((p) => p >= wanted) ?? PRIMES[PRIMES.length - 1]!;
}

/** Members ordered by id (so their input order never matters); throws on a duplicate id or a bad weight. */
export function sortMembers(members: readonly RingMember[]): RingMember[] {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let m = 0; m < sorted.length; m++) {
    const { id, weight } = sorted[m]!;
    if (m > 0 && sorted[m - 1]!.id === id) throw new Error(`duplicate ring member id ${JSON.stringify(id)}`);
    if (!(weight > 0) || !Number.isFinite(weight))
      throw new RangeError(`weight of ${JSON.stringify(id)} must be a positive finite number`);
  }
  return sorted;
}

/** A member's slot preference order: offset, offset + skip, offset + 2·skip, … (mod size). */
export function permutation(id: string, size: number): { readonly offset: number; readonly skip: number } {
  return { offset: xxh32String(id, OFFSET_SEED) % size, skip: (xxh32String(id, SKIP_SEED) % (size - 1)) + 1 };
}

/** Builds the balanced ring from scratch; members are ordered by id first, so their input order never matters. */
export function buildSlotRing(members: readonly RingMember[], slotsPerMember = SLOTS_PER_MEMBER): Ring {
  return ringFromLayout(freshLayout(members, slotsPerMember));
}

/**
 * Who owns which slot: what the Durable Object stores and ships (about 2 bytes per slot), so that
 * a membership change can move exactly the clients it must (`updateLayout`) instead of refilling.
 */
export interface SlotLayout {
  /** Layout version: the Durable Object bumps it on every change; 0 for a fresh fill. */
  readonly epoch: number;
  /** Member ids, sorted. */
  readonly ids: readonly string[];
  /** Weights aligned with `ids`: the counts were balanced for these. */
  readonly weights: readonly number[];
  /** The RING_SLOTS_PER_ORIGIN the table was sized with. */
  readonly slotsPerMember: number;
  /** owners[slot] = index into `ids`; the table size is owners.length (a prime, or 0 when empty). */
  readonly owners: Uint16Array;
}

/** Uint16 owner indices; config.ts's MAX_ORIGINS is far below. */
export const MAX_LAYOUT_MEMBERS = 65_535;

/** Maglev's fill from scratch, sized for `members`. */
export function freshLayout(members: readonly RingMember[], slotsPerMember = SLOTS_PER_MEMBER, epoch = 0): SlotLayout {
  const sorted = sortMembers(members);
  checkCount(sorted.length);
  const size = sorted.length === 0 ? 0 : slotCount(sorted.length, slotsPerMember);
  return {
    epoch,
    ids: sorted.map((member) => member.id),
    weights: sorted.map((member) => member.weight),
    slotsPerMember,
    owners: Uint16Array.from(fillSlots(sorted, size)),
  };
}

/** True when `layout` was balanced for exactly these members and weights. */
/**
 * Each member's share of its own layout's key space (its slots over the layout's), over several
 * layouts (one per pool): what the admin API and the status page call an origin's share.
 */
export function layoutShares(layouts: Iterable<SlotLayout>): Map<string, number> {
  const shares = new Map<string, number>();
  for (const layout of layouts) {
    const counts = new Array<number>(layout.ids.length).fill(0);
    for (const owner of layout.owners) counts[owner]!++;
    const size = Math.max(1, layout.owners.length);
    layout.ids.forEach((id, m) => shares.set(id, counts[m]! / size));
  }
  return shares;
}

export function layoutMatches(layout: SlotLayout, members: readonly RingMember[]): boolean {
  if (layout.ids.length !== members.length) return false;
  const weights = new Map(members.map((member) => [member.id, member.weight]));
  return layout.ids.every((id, m) => weights.get(id) === layout.weights[m]);
}

/** The ring `walkRing` walks: slot i starts at i/size of the 32-bit key space. */
export function ringFromLayout(layout: SlotLayout): Ring {
  const { ids } = layout;
  const size = layout.owners.length;
  const idHashes = Uint32Array.from(ids, (id) => xxh32String(id));
  const points = new Uint32Array(size);
  // Ascending and distinct, as walkRing needs.
  for (let i = 0; i < size; i++) points[i] = Math.floor((i * 4_294_967_296) / size);
  return { ids, points, owners: Uint32Array.from(layout.owners), idHashes, ...indexPoints(points) };
}

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

function checkCount(n: number): void {
  if (n > MAX_LAYOUT_MEMBERS) throw new RangeError(`a slot layout holds at most ${MAX_LAYOUT_MEMBERS} members`);
}

/**
 * Maglev's fill of `size` slots (a prime) by `sorted` members: owner index per slot. Rounds of
 * turns: each round every member earns its weight / max weight in credit and spends whole credits
 * on slots, so claims stay proportional to weight throughout the fill and the last, contested
 * slots are shared out the same way.
 */
export function fillSlots(sorted: readonly RingMember[], size: number): Int32Array {
  const n = sorted.length;
  const owner = new Int32Array(size).fill(-1);
  if (n === 0) return owner;
  // Slot numbers stay below 2^20, so plain int32 arithmetic: one add and a compare per probe.
  const position = new Int32Array(n);
  const skip = new Int32Array(n);
  const credit = new Float64Array(n);
  const share = new Float64Array(n);
  let maxWeight = 0;
  for (const { weight } of sorted) maxWeight = Math.max(maxWeight, weight);
  for (let m = 0; m < n; m++) {
    const preference = permutation(sorted[m]!.id, size);
    position[m] = preference.offset;
    skip[m] = preference.skip;
    share[m] = sorted[m]!.weight / maxWeight;
  }
  let filled = 0;
  while (filled < size) {
    for (let m = 0; m < n && filled < size; m++) {
      credit[m]! += share[m]!;
      while (credit[m]! >= 1 && filled < size) {
        credit[m]! -= 1;
        const step = skip[m]!;
        let slot = position[m]!;
        while (owner[slot]! >= 0) {
          slot += step;
          if (slot >= size) slot -= size;
        }
        owner[slot] = m;
        slot += step;
        position[m] = slot >= size ? slot - size : slot;
        filled++;
      }
    }
  }
  return owner;
}
