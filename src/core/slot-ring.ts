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
import { xxh32String } from "./hash.ts";
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

/** Builds the balanced ring; members are ordered by id first, so their input order never matters. */
export function buildSlotRing(members: readonly RingMember[], slotsPerMember = SLOTS_PER_MEMBER): Ring {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let m = 1; m < sorted.length; m++) {
    if (sorted[m - 1]!.id === sorted[m]!.id)
      throw new Error(`duplicate ring member id ${JSON.stringify(sorted[m]!.id)}`);
  }
  const ids = sorted.map((member) => member.id);
  const idHashes = Uint32Array.from(ids, (id) => xxh32String(id));
  const n = sorted.length;
  if (n === 0) {
    const points = new Uint32Array(0);
    return { ids, points, owners: new Uint32Array(0), idHashes, ...indexPoints(points) };
  }

  const size = slotCount(n, slotsPerMember);
  const owner = new Int32Array(size).fill(-1);
  // Slot numbers stay below 2^20, so plain int32 arithmetic: one add and a compare per probe.
  const position = new Int32Array(n);
  const skip = new Int32Array(n);
  const credit = new Float64Array(n);
  const share = new Float64Array(n);
  let maxWeight = 0;
  for (const { id, weight } of sorted) {
    if (!(weight > 0) || !Number.isFinite(weight))
      throw new RangeError(`weight of ${JSON.stringify(id)} must be a positive finite number`);
    maxWeight = Math.max(maxWeight, weight);
  }
  for (let m = 0; m < n; m++) {
    position[m] = xxh32String(ids[m]!, OFFSET_SEED) % size;
    skip[m] = (xxh32String(ids[m]!, SKIP_SEED) % (size - 1)) + 1;
    share[m] = sorted[m]!.weight / maxWeight;
  }

  // Rounds of turns: each round every member earns its weight / max weight in credit and spends
  // whole credits on slots, so claims stay proportional to weight throughout the fill and the
  // last, contested slots are shared out the same way.
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

  const points = new Uint32Array(size);
  const owners = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    // Slot i starts at i/size of the 32-bit key space: ascending and distinct, as walkRing needs.
    points[i] = Math.floor((i * 4_294_967_296) / size);
    owners[i] = owner[i]!;
  }
  return { ids, points, owners, idHashes, ...indexPoints(points) };
}
