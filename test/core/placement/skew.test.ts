// The issue's skewed workload on the core alone: 10 origins, ~4,000 Zipf users and three NAT
// addresses carrying 12 %, 6 % and 4 % of all requests (150 users each, every one with a cookie).
// A learning phase of plans every 10 s, each from the traffic as the previous plan placed it, then
// the measured phase: the bound holds and nothing moves any more.
import { describe, expect, test } from "vitest";
import type { Placement } from "../../../src/core/placement/placement.ts";
import { planPlacements } from "../../../src/core/placement/plan-placements.ts";
import { assignment, inputFor, loads, peakOverMean, pool, skewed } from "./workload.ts";

const T0 = 1_800_000_000_000;
const TOTAL = 10_000;

describe("the issue's skewed workload", () => {
  test.each([1, 0.8])("Zipf exponent %s: peak/mean ≤ 1.25 after learning, each user moved at most once", (s) => {
    const p = pool(10);
    const clients = skewed(TOTAL, 4_000, [0.12, 0.06, 0.04], s);
    const ring = assignment(p, clients, []);
    const before = peakOverMean(p, loads(p, ring));

    let held: readonly Placement[] = [];
    const moves = new Map<string, number>();
    let last = ring;
    for (let round = 0; round < 6; round++) {
      held = planPlacements(inputFor(p, clients, held, T0 + round * 10_000)).placements;
      const now = assignment(p, clients, held);
      for (const [user, [origin]] of now)
        if (last.get(user)![0] !== origin) moves.set(user, (moves.get(user) ?? 0) + 1);
      last = now;
    }
    const after = peakOverMean(p, loads(p, last));
    let movedRate = 0;
    for (const [user, [origin, rate]] of last) if (ring.get(user)![0] !== origin) movedRate += rate;
    const splits = held.filter((x) => x.targets.length > 1);
    console.log(
      `skew (Zipf ${s}): peak/mean ${before.toFixed(2)} → ${after.toFixed(3)}; ${held.length} placements ` +
        `(${splits.map((x) => `${x.key} over ${x.targets.length}`).join(", ")}); moved ${moves.size} of ${last.size} ` +
        `users (${((moves.size / last.size) * 100).toFixed(1)} %), ${((movedRate / TOTAL) * 100).toFixed(2)} % of requests`,
    );
    expect(before).toBeGreaterThan(1.5);
    expect(after).toBeLessThanOrEqual(1.25);
    expect(Math.max(...moves.values())).toBe(1);

    // Measured phase: the same traffic as placed, during and after the hold, changes nothing.
    for (const at of [T0 + 70_000, T0 + 130_000, T0 + 600_000]) {
      const next = planPlacements(inputFor(p, clients, held, at));
      expect(next.changed).toEqual([]);
      expect(next.placements).toEqual(held);
    }
  });
});
