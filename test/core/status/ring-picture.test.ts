import { describe, expect, test } from "vitest";
import { freshLayout, ringFromLayout } from "../../../src/core/ring/slot-layout.ts";
import { walkRing } from "../../../src/core/ring/ring.ts";
import { arcPath, cellKey, mergeCells, sampleArcs, sampleCells } from "../../../src/core/status/ring-picture.ts";

describe("ring picture", () => {
  test("cell keys sit at the middle of equal cells of the 32-bit key space", () => {
    expect(cellKey(0, 4)).toBe(0x2000_0000);
    expect(cellKey(3, 4)).toBe(0xe000_0000);
    expect(cellKey(0, 1)).toBe(0x8000_0000);
  });

  test("runs of the same member merge into one arc; −1 (nobody) is an arc, values below −1 draw nothing", () => {
    expect(mergeCells([0, 0, 1, 1, 1, -1, -2, -2, 0, 0])).toEqual([
      { start: 0, end: 0.2, member: 0 },
      { start: 0.2, end: 0.5, member: 1 },
      { start: 0.5, end: 0.6, member: -1 },
      { start: 0.8, end: 1, member: 0 },
    ]);
    expect(mergeCells([2, 2, 2, 2])).toEqual([{ start: 0, end: 1, member: 2 }]);
    expect(mergeCells([])).toEqual([]);
  });

  test("a member's drawn share is its share of the slot table to within sampling noise, and never more than `cells` arcs", () => {
    const members = [
      { id: "a", weight: 1 },
      { id: "b", weight: 2 },
      { id: "c", weight: 1 },
    ];
    const layout = freshLayout(members);
    const ring = ringFromLayout(layout);
    const one = new Uint32Array(1);
    const arcs = sampleArcs(600, (key) => (walkRing(ring, key, [1, 1, 1], one) === 1 ? one[0]! : -1));
    expect(arcs.length).toBeLessThanOrEqual(600);
    // Maglev gives adjacent slots pseudo-random owners: many short arcs, not three long ones.
    expect(arcs.length).toBeGreaterThan(200);
    const drawn = [0, 1, 2].map((m) => arcs.filter((a) => a.member === m).reduce((s, a) => s + a.end - a.start, 0));
    const exact = [0, 1, 2].map((m) => layout.owners.filter((o) => o === m).length / layout.owners.length);
    drawn.forEach((share, m) => expect(Math.abs(share - exact[m]!)).toBeLessThan(0.05));
    expect(drawn.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  });

  test("a skipped member's cells go to others; no cell of the picture is lost", () => {
    const layout = freshLayout([
      { id: "a", weight: 1 },
      { id: "b", weight: 1 },
    ]);
    const ring = ringFromLayout(layout);
    const one = new Uint32Array(1);
    const serving = sampleCells(100, (key) => (walkRing(ring, key, [1, 0], one) === 1 ? one[0]! : -1));
    expect([...serving].every((m) => m === 0)).toBe(true);
    const nobody = sampleCells(100, (key) => (walkRing(ring, key, [0, 0], one) === 1 ? one[0]! : -1));
    expect(mergeCells(nobody)).toEqual([{ start: 0, end: 1, member: -1 }]);
  });

  test("SVG path: one segment per arc from 12 o'clock clockwise; a whole circle as two halves", () => {
    expect(arcPath([{ start: 0, end: 0.25, member: 0 }], 100, 100, 50)).toBe("M100 50A50 50 0 0 1 150 100");
    expect(arcPath([{ start: 0.25, end: 1, member: 0 }], 100, 100, 50)).toBe("M150 100A50 50 0 1 1 100 50");
    expect(arcPath([{ start: 0, end: 1, member: 0 }], 100, 100, 50)).toBe(
      "M100 50A50 50 0 0 1 100 150A50 50 0 0 1 100 50",
    );
    expect(arcPath([], 100, 100, 50)).toBe("");
  });
});
