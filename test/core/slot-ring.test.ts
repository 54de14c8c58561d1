import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { walkRing, type RingMember } from "../../src/core/ring.ts";
import { buildSlotRing, slotCount } from "../../src/core/slot-ring.ts";
import { keyHashes } from "./key-hashes.ts";

const members = (n: number, weight = (_: number) => 1): RingMember[] =>
  Array.from({ length: n }, (_, i) => ({ id: `origin-${i}`, weight: weight(i) }));

/** Slots owned per member id. */
function slotsOf(ring: ReturnType<typeof buildSlotRing>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const owner of ring.owners) counts.set(ring.ids[owner]!, (counts.get(ring.ids[owner]!) ?? 0) + 1);
  return counts;
}

describe("slot ring (Maglev fill)", () => {
  test("equal members own equal slot counts to within one slot", () => {
    for (const n of [1, 3, 10, 100]) {
      const counts = [...slotsOf(buildSlotRing(members(n))).values()];
      expect(counts).toHaveLength(n);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  test("slot counts follow weights to within one slot per unit of the heaviest weight", () => {
    const ring = buildSlotRing(members(10, (i) => [1, 1, 1, 1, 1, 2, 2, 2, 4, 4][i]!));
    const counts = slotsOf(ring);
    const perUnit = slotCount(10) / 19;
    for (const [id, count] of counts) {
      const weight = [1, 1, 1, 1, 1, 2, 2, 2, 4, 4][Number(id.slice(7))]!;
      expect(Math.abs(count - weight * perUnit)).toBeLessThanOrEqual(4);
    }
  });

  test("points are equally spaced, ascending and distinct; the table is a listed prime", () => {
    const ring = buildSlotRing(members(10));
    expect(ring.points.length).toBe(65_537);
    for (let i = 1; i < ring.points.length; i++) expect(ring.points[i]!).toBeGreaterThan(ring.points[i - 1]!);
    expect(slotCount(1_000)).toBe(131_071);
  });

  test("the same members in any order give the identical table", () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(members(12), { minLength: 12, maxLength: 12 }), (shuffled) => {
        const a = buildSlotRing(members(12));
        const b = buildSlotRing(shuffled);
        expect(b.ids).toEqual(a.ids);
        expect(Buffer.from(b.owners.buffer).equals(Buffer.from(a.owners.buffer))).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  test("a failed member (skipped on the walk) moves only its own clients, over many members", () => {
    const ring = buildSlotRing(members(20));
    const keys = keyHashes(7, 50_000);
    const out = new Uint32Array(1);
    const all = new Float64Array(20).fill(1);
    const failed = Float64Array.from(all);
    failed[3] = 0;
    const spread = new Set<number>();
    for (const key of keys) {
      walkRing(ring, key, all, out);
      const before = out[0]!;
      walkRing(ring, key, failed, out);
      if (before !== 3) expect(out[0]).toBe(before);
      else spread.add(out[0]!);
    }
    expect(spread.size).toBeGreaterThanOrEqual(15);
  });

  test("rejects duplicate ids and non-positive weights", () => {
    expect(() => buildSlotRing([...members(2), { id: "origin-0", weight: 1 }])).toThrow(/duplicate/);
    expect(() => buildSlotRing([{ id: "a", weight: 0 }])).toThrow(RangeError);
    expect(buildSlotRing([]).points.length).toBe(0);
  });
});
