/**
 * Maglev's permutation fill (Eisenbud et al., "Maglev", NSDI 2016, §3.4): every member walks its
 * own pseudo-random permutation of the slots, derived from its id only, and members take turns
 * claiming their next free preferred slot, in proportion to their weights. Each member ends up
 * owning its weight's share of the slots to within one slot, so the load is as even as the keys
 * allow, where random virtual nodes leave ~1/√points of imbalance.
 */
import { xxh32String } from "../hash.ts";
import type { RingMember } from "./ring.ts";

/** Table sizes: primes, so every skip in 1..M−1 visits every slot (Maglev §3.4). */
export const PRIMES = [65_537, 131_071, 262_139, 524_287] as const;

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
