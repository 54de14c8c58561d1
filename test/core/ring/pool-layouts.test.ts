import { describe, expect, test } from "vitest";
import { planPoolLayouts, type PoolMember } from "../../../src/core/ring/pool-layouts.ts";
import { freshLayout, type SlotLayout } from "../../../src/core/ring/slot-layout.ts";

const SLOTS = 10;
const origin = (id: string, region: string | null = null, weight = 1): PoolMember => ({ id, weight, region });
const layout = (ids: string[], slots = SLOTS, epoch = 1): SlotLayout =>
  freshLayout(
    ids.map((id) => ({ id, weight: 1 })),
    slots,
    epoch,
  );
const pools = (layouts: Record<string, SlotLayout>) =>
  Object.fromEntries(Object.entries(layouts).map(([pool, l]) => [pool, l.ids]));

describe("planPoolLayouts", () => {
  test.each<[string, PoolMember[], Record<string, SlotLayout>, string[], Record<string, readonly string[]>, boolean]>([
    ["no origins: one empty catch-all pool", [], {}, [], { "": [] }, true],
    ["origins without a region: the catch-all pool", [origin("a"), origin("b")], {}, [], { "": ["a", "b"] }, true],
    [
      "a declared region is its own pool",
      [origin("a", "eu"), origin("b", "us"), origin("c")],
      {},
      ["eu"],
      { "": ["b", "c"], eu: ["a"] },
      true,
    ],
    [
      "a stored layout that still fits: unchanged",
      [origin("a"), origin("b")],
      { "": layout(["a", "b"]) },
      [],
      { "": ["a", "b"] },
      false,
    ],
    [
      "a stored pool no longer needed is dropped",
      [origin("a")],
      { "": layout(["a"]), eu: layout(["x"]) },
      [],
      { "": ["a"] },
      true,
    ],
  ])("%s", (_, origins, stored, regions, expected, changed) => {
    const planned = planPoolLayouts(origins, stored, 2, new Set(regions), SLOTS);
    expect(pools(planned.layouts)).toEqual(expected);
    expect(planned.changed).toBe(changed);
  });

  test("a layout that fits is kept as the same object; a changed one is labelled with the new epoch, NOT refilled", () => {
    const kept = layout(["a"]);
    const planned = planPoolLayouts(
      [origin("a"), origin("b", "eu")],
      { "": kept, eu: layout(["b", "c"]) },
      7,
      new Set(["eu"]),
      SLOTS,
    );
    expect(planned.layouts[""]).toBe(kept);
    expect(planned.layouts["eu"]!.epoch).toBe(7);
    expect(planned.layouts["eu"]!.ids).toEqual(["b"]);
    expect(planned.refilled).toEqual([]);
  });

  test("a changed slots-per-member refills a held layout (and says so); a first fill is NOT a refill", () => {
    const planned = planPoolLayouts([origin("a"), origin("b", "eu")], { "": layout(["a"]) }, 3, new Set(["eu"]), 20);
    expect(planned.layouts[""]!.slotsPerMember).toBe(20);
    expect(planned.refilled).toEqual([""]);
  });
});
