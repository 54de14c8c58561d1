import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { walkRing, type RingMember } from "../../../src/core/ring/ring.ts";
import {
  buildSlotRing,
  freshLayout,
  layoutShares,
  layoutMatches,
  ringFromLayout,
  type SlotLayout,
} from "../../../src/core/ring/slot-layout.ts";
import { heirSlack, updateLayout } from "../../../src/core/ring/layout-update.ts";
import { slotCount } from "../../../src/core/ring/maglev.ts";
import { keyHashes } from "../key-hashes.ts";

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

/** Slot counts per member id of a layout. */
function countsOf(layout: SlotLayout): Map<string, number> {
  const counts = new Map<string, number>(layout.ids.map((id) => [id, 0]));
  for (const owner of layout.owners) counts.set(layout.ids[owner]!, counts.get(layout.ids[owner]!)! + 1);
  return counts;
}

/** Slots whose owner differs between two layouts of the same size. */
function movedSlots(before: SlotLayout, after: SlotLayout): number[] {
  expect(after.owners.length).toBe(before.owners.length);
  const moved: number[] = [];
  for (let slot = 0; slot < before.owners.length; slot++) {
    if (before.ids[before.owners[slot]!] !== after.ids[after.owners[slot]!]) moved.push(slot);
  }
  return moved;
}

/** The fewest slots any layout change can move: every slot a member loses must move. */
function minimalMoves(before: SlotLayout, after: SlotLayout): number {
  const old = countsOf(before);
  const now = countsOf(after);
  let lost = 0;
  for (const [id, count] of old) lost += Math.max(0, count - (now.get(id) ?? 0));
  return lost;
}

describe("slot layout updates (held by the Durable Object)", () => {
  test("a fresh layout is the Maglev fill buildSlotRing walks", () => {
    const layout = freshLayout(members(10));
    const ring = buildSlotRing(members(10));
    expect(Array.from(ringFromLayout(layout).owners)).toEqual(Array.from(ring.owners));
    expect(layoutMatches(layout, members(10))).toBe(true);
    expect(
      layoutMatches(
        layout,
        members(10, (i) => (i === 2 ? 2 : 1)),
      ),
    ).toBe(false);
    expect(layoutMatches(layout, members(9))).toBe(false);
  });

  test("removal moves exactly the removed member's slots, mostly to where the walk already sent them", () => {
    for (const n of [3, 10, 100]) {
      const before = freshLayout(members(n));
      const kept = members(n).filter((member) => member.id !== "origin-1");
      const { layout: after, refilled } = updateLayout(before, kept);
      expect(refilled).toBe(false);
      const moved = movedSlots(before, after);
      expect(moved.length).toBe(countsOf(before).get("origin-1"));
      for (const slot of moved) expect(before.ids[before.owners[slot]!]).toBe("origin-1");
      // Balanced again, to within the heirs' slack (1 % of a share, at least one slot).
      const share = after.owners.length / (n - 1);
      for (const count of countsOf(after).values()) {
        expect(count).toBeLessThanOrEqual(Math.ceil(share) + heirSlack(Math.floor(share)));
        expect(count).toBeGreaterThanOrEqual(Math.floor(share) - heirSlack(Math.floor(share)) * (n - 2));
      }
      // Most of the removed member's slots go to the origin the walk used while it was down.
      const ring = ringFromLayout(before);
      const down = Float64Array.from(ring.ids, (id) => (id === "origin-1" ? 0 : 1));
      const out = new Uint32Array(1);
      let same = 0;
      for (const slot of moved) {
        walkRing(ring, ring.points[slot]!, down, out);
        if (ring.ids[out[0]!] === after.ids[after.owners[slot]!]) same++;
      }
      expect(same / moved.length).toBeGreaterThan(0.5);
    }
  });

  test("addition moves exactly the newcomer's new share, all of it to the newcomer", () => {
    for (const n of [1, 10, 100]) {
      const before = freshLayout(members(n));
      const { layout: after, refilled } = updateLayout(before, members(n + 1));
      expect(refilled).toBe(false);
      const moved = movedSlots(before, after);
      for (const slot of moved) expect(after.ids[after.owners[slot]!]).toBe(`origin-${n}`);
      expect(moved.length).toBe(countsOf(after).get(`origin-${n}`));
      const counts = [...countsOf(after).values()];
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  test("a weight change moves exactly the difference in share", () => {
    const before = freshLayout(members(10));
    for (const weight of [0.5, 2, 3]) {
      const { layout: after } = updateLayout(
        before,
        members(10, (i) => (i === 4 ? weight : 1)),
      );
      expect(movedSlots(before, after).length).toBe(minimalMoves(before, after));
      const size = before.owners.length;
      expect(Math.abs(countsOf(after).get("origin-4")! - (weight / (9 + weight)) * size)).toBeLessThanOrEqual(1);
    }
  });

  test("any sequence of changes moves the minimum each time and keeps counts within a slot of the weights", () => {
    const ids = Array.from({ length: 24 }, (_, i) => `o${i}`);
    fc.assert(
      fc.property(
        fc.array(fc.subarray(ids, { minLength: 1 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.constantFrom(1, 2, 3), { minLength: 24, maxLength: 24 }),
        (steps, weights) => {
          let layout = freshLayout(
            ids.slice(0, 8).map((id) => ({ id, weight: 1 })),
            10,
          );
          for (const step of steps) {
            const next = step.map((id) => ({ id, weight: weights[ids.indexOf(id)]! }));
            const { layout: after, refilled } = updateLayout(layout, next, 10);
            if (!refilled) expect(movedSlots(layout, after).length).toBe(minimalMoves(layout, after));
            expect(layoutMatches(after, next)).toBe(true);
            const total = next.reduce((sum, member) => sum + member.weight, 0);
            const counts = countsOf(after);
            // A refill is Maglev's weighted fill: within a few slots (tested above). Otherwise no
            // member is more than the heirs' slack above its share; the shortfall is theirs.
            for (const member of next) {
              const share = (member.weight / total) * after.owners.length;
              const above = counts.get(member.id)! - share;
              expect(above).toBeLessThanOrEqual(refilled ? 4 : 1 + heirSlack(Math.floor(share)));
            }
            layout = after;
          }
        },
      ),
      { numRuns: 60, seed: 20261122 },
    );
  });

  test("the same members in any order give the same update; a changed slot setting refills", () => {
    const before = freshLayout(members(10));
    const next = members(12).filter((member) => member.id !== "origin-5");
    const a = updateLayout(before, next).layout;
    const b = updateLayout(before, [...next].reverse()).layout;
    expect(Array.from(a.owners)).toEqual(Array.from(b.owners));
    expect(updateLayout(before, next, 50).refilled).toBe(true);
    expect(updateLayout(null, next).refilled).toBe(true);
    expect(updateLayout(before, [{ id: "other", weight: 1 }]).refilled).toBe(true);
  });

  test("the table grows (and refills) only when it holds fewer than half the wanted slots per member", () => {
    let layout = freshLayout(members(600));
    expect(layout.owners.length).toBe(65_537);
    const grown = updateLayout(layout, members(1000));
    expect(grown.refilled).toBe(false);
    expect(grown.layout.owners.length).toBe(65_537);
    layout = freshLayout(members(10), 100);
    expect(updateLayout(layout, members(1400)).refilled).toBe(true);
  });
});

describe("layoutShares", () => {
  test("each member's slots over its own layout's, across layouts; weights show through", () => {
    const eu = freshLayout([
      { id: "eu-1", weight: 1 },
      { id: "eu-2", weight: 3 },
    ]);
    const us = freshLayout([{ id: "us-1", weight: 1 }]);
    const shares = layoutShares([eu, us]);
    expect([...shares.keys()].sort()).toEqual(["eu-1", "eu-2", "us-1"]);
    expect(shares.get("us-1")).toBe(1);
    expect(shares.get("eu-1")! + shares.get("eu-2")!).toBeCloseTo(1, 12);
    // Maglev fills within a slot of the exact proportion.
    expect(Math.abs(shares.get("eu-2")! - 0.75)).toBeLessThanOrEqual(1 / eu.owners.length);
    // Counted the slow way.
    const counted = eu.owners.filter((owner) => eu.ids[owner] === "eu-1").length / eu.owners.length;
    expect(shares.get("eu-1")).toBe(counted);
    expect(layoutShares([]).size).toBe(0);
  });
});
