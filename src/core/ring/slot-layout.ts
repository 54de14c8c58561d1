/**
 * A balanced ring: M equally spaced points ("slots") whose owners are chosen by Maglev's
 * permutation fill (maglev.ts). Each member owns its weight's share of the slots to within one slot.
 *
 * It returns the same `Ring` shape as `buildRing`, so `walkRing` serves it unchanged: a failed or
 * draining member is skipped on the walk (its slots fall to the next slot's owner, and adjacent
 * slots have pseudo-random owners, so its clients spread over many members while nobody else
 * moves). A permanent membership change refills the table; Maglev keeps most slots where they
 * were, with a small excess over the ideal that `scripts/ring-quality.ts` measures.
 */
import { xxh32String } from "../hash.ts";
import { fillSlots, slotCount, sortMembers, SLOTS_PER_MEMBER } from "./maglev.ts";
import { indexPoints, type Ring, type RingMember } from "./ring.ts";

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

/** Uint16 owner indices; config/origins.ts's MAX_ORIGINS is far below. */
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

/** Builds the balanced ring from scratch; members are ordered by id first, so their input order never matters. */
export function buildSlotRing(members: readonly RingMember[], slotsPerMember = SLOTS_PER_MEMBER): Ring {
  return ringFromLayout(freshLayout(members, slotsPerMember));
}

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

/** True when `layout` was balanced for exactly these members and weights. */
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

/** Throws when `n` members cannot be numbered in a layout's Uint16 owners. */
export function checkCount(n: number): void {
  if (n > MAX_LAYOUT_MEMBERS) throw new RangeError(`a slot layout holds at most ${MAX_LAYOUT_MEMBERS} members`);
}
