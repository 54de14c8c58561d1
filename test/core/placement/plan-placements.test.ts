// The planner's properties over random pools and workloads: deterministic in any input order,
// minimal (only placed keys move, and no cheaper relief exists), sticky over changing load, and
// within the bound whenever the bound can be met.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { PLAN_HEADROOM, type Placement, type PlannerInput } from "../../../src/core/placement/placement.ts";
import { planPlacements } from "../../../src/core/placement/plan-placements.ts";
import { assignment, client, inputFor, loads, pool, type Client, type Pool } from "./workload.ts";

const T0 = 1_800_000_000_000;
const RUNS = { numRuns: 60 };

interface Scenario {
  readonly p: Pool;
  readonly clients: Client[];
  readonly hot: number;
}

// 3–10 origins (weights 1 or 2), 300 light clients and 2–14 heavy keys, some behind a NAT.
const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    weights: fc.array(fc.constantFrom(1, 2), { minLength: 3, maxLength: 10 }),
    heavy: fc.array(fc.record({ rate: fc.integer({ min: 20, max: 400 }), nat: fc.boolean() }), {
      minLength: 2,
      maxLength: 14,
    }),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
  })
  .map(({ weights, heavy, seed }) => {
    const light = Array.from({ length: 300 }, (_, i) => client(`light-${seed}-${i}`, 1 + (i % 5)));
    const hot = heavy.map((h, i) => client(`hot-${seed}-${i}`, h.rate, h.nat ? 40 : 0));
    return { p: pool(weights.length, (i) => weights[i]!), clients: [...light, ...hot], hot: hot.length };
  });

const view = (s: Scenario, held: readonly Placement[], now = T0, factor = 1.25): PlannerInput =>
  inputFor(s.p, s.clients, held, now, s.hot, factor);

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let x = seed | 1;
  for (let i = out.length - 1; i > 0; i--) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) ^ (x + 0x9e3779b9);
    const j = (x >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("determinism", () => {
  test("the same view gives the same plan, whatever the order of keys, origins and held placements", () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer(), (s, seed) => {
        const first = planPlacements(view(s, []));
        const input = view(s, first.placements, T0 + 1_000);
        const again = planPlacements(input);
        const reordered = planPlacements({
          ...input,
          keys: shuffled(input.keys, seed),
          origins: shuffled(input.origins, seed + 1),
          held: shuffled(input.held, seed + 2),
          originRates: Object.fromEntries(shuffled(Object.entries(input.originRates), seed + 3)),
        });
        expect(reordered).toEqual(again);
        expect(planPlacements(view(s, []))).toEqual(first);
      }),
      RUNS,
    );
  });
});

describe("minimality", () => {
  test("nobody outside the moved set moves; the plan's loads are the true loads when nothing is split", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const ring = assignment(s.p, s.clients, []);
        const plan = planPlacements(view(s, []));
        const placed = assignment(s.p, s.clients, plan.placements);
        const changed = new Set(plan.changed);
        for (const [user, [origin]] of placed) {
          if (ring.get(user)![0] !== origin) expect(changed.has(user.split("#")[0]!)).toBe(true);
        }
        expect(plan.placements.every((x) => x.decidedAt === T0 && changed.has(x.key))).toBe(true);
        if (plan.placements.every((x) => x.targets.length === 1)) {
          const truth = loads(s.p, placed);
          for (const [id, value] of Object.entries(plan.loads.after)) expect(value).toBeCloseTo(truth[id]!, 6);
        }
      }),
      RUNS,
    );
  });

  test("with every origin under the bound nothing is placed; with the bound off nothing is either", () => {
    const p = pool(5);
    const clients = Array.from({ length: 500 }, (_, i) => client(`even-${i}`, 1));
    const under = planPlacements(inputFor(p, clients, [], T0, 20, 1.25));
    expect(under.withinBound).toBe(true);
    expect(under.placements).toEqual([]);
    expect(under.movedRate).toBe(0);
    const skewedClients = [...clients, client("hot", 400, 50)];
    expect(planPlacements(inputFor(p, skewedClients, [], T0, 20, 0)).placements).toEqual([]);
  });

  test("one origin over the bound: the requests moved are the cheapest whole-key relief there is", () => {
    // Ten origins with about 1,000 req/s of light clients each (room for ≥ 200 more on every one),
    // and up to 8 heavy single-user keys, all on o0. Set up once: the same pool every run.
    const p = pool(10);
    const light = Array.from({ length: 10_000 }, (_, i) => client(`bg-${i}`, 1));
    const lightO0 = loads(p, assignment(p, light, [])).o0!;
    const keysOnO0 = Array.from({ length: 200 }, (_, i) => client(`k-${i}`, 1)).filter(
      (c) => assignment(p, [c], []).get(c.key)![0] === "o0",
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 5, max: 120 }), { minLength: 1, maxLength: 8 }), (rates) => {
        const heavy = keysOnO0.slice(0, rates.length).map((c, i) => ({ ...c, rate: rates[i]! }));
        const plan = planPlacements(inputFor(p, [...light, ...heavy], [], T0, heavy.length));
        const sum = rates.reduce((a, b) => a + b, 0);
        const bound = (1.25 * (10_000 + sum)) / 10;
        // Brute force over every subset of o0's heavy keys: the cheapest that covers `excess`.
        const cheapest = (excess: number) => {
          let best = Infinity;
          for (let mask = 1; mask < 1 << rates.length; mask++) {
            const moved = rates.reduce((s, r, i) => s + (mask & (1 << i) ? r : 0), 0);
            if (moved >= excess - 1e-9) best = Math.min(best, moved);
          }
          return best;
        };
        // Only an origin over the bound is relieved, but then to the planned target, PLAN_HEADROOM
        // under the bound (the delivered load overshoots the plan); when no subset reaches the
        // target, the cheapest that reaches the bound. Minimal means: cheapest for that target.
        const over = lightO0 + sum > bound;
        const toTarget = cheapest(lightO0 + sum - (1 - PLAN_HEADROOM) * bound);
        const best = !over ? 0 : Number.isFinite(toTarget) ? toTarget : cheapest(lightO0 + sum - bound);
        expect(plan.withinBound).toBe(Number.isFinite(best));
        if (Number.isFinite(best)) expect(plan.movedRate).toBeCloseTo(best, 6);
      }),
      RUNS,
    );
  });
});

describe("the bound", () => {
  test("is met whenever it can be: every origin's own light clients fit under it, heavy keys can split", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const nat = s.clients.map((c) =>
          c.key.startsWith("hot") ? { ...c, users: c.users.length ? c.users : [1, 2, 3, 4, 5, 6] } : c,
        );
        const scenario = { ...s, clients: nat };
        const input = { ...view(scenario, []), settings: { boundFactor: 1.25, holdMs: 60_000, maxSplit: 10 } };
        const light = loads(
          s.p,
          assignment(
            s.p,
            s.clients.filter((c) => !c.key.startsWith("hot")),
            [],
          ),
        );
        const total = s.clients.reduce((a, c) => a + c.rate, 0);
        const weight = s.p.origins.reduce((a, o) => a + o.weight, 0);
        fc.pre(s.p.origins.every((o) => (light[o.id] ?? 0) <= (1.25 * total * o.weight) / weight));
        const plan = planPlacements(input);
        expect(plan.withinBound).toBe(true);
        for (const [id, value] of Object.entries(plan.loads.after))
          expect(value).toBeLessThanOrEqual(plan.loads.bound[id]! * (1 + 1e-9));
      }),
      RUNS,
    );
  });
});
