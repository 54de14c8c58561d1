import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  type OriginConfig,
  UNKNOWN_HEALTH,
  type AdminState,
  type HealthView,
  type OriginRecord,
  type Snapshot,
} from "../../../src/core/model.ts";
import { keyThreshold } from "../../../src/core/ring/ring.ts";
import { bootstrapSnapshot, buildRoutingTable } from "../../../src/core/routing/routing-table.ts";
import { originWeight, RAMP_STEP_MS, routingView, type RoutingPolicy } from "../../../src/core/routing/routing-view.ts";
import { pickOrigins } from "../../../src/core/routing/pick-origins.ts";
import { keyHashes } from "../key-hashes.ts";

function origin(id: string, weight = 1, region: string | null = null): OriginConfig {
  return { id, url: `https://${id}.example`, weight, region };
}

const CONFIGS: OriginConfig[] = [
  origin("us-2", 2, "us"),
  origin("eu-1", 1, "eu"),
  origin("ap-1", 0.5),
  origin("us-1", 1, "us"),
  origin("eu-2", 3, "eu"),
];

function withStates(configs: readonly OriginConfig[], states: Record<string, AdminState>, epoch = 7): Snapshot {
  return {
    epoch,
    origins: configs.map((o) => ({
      ...o,
      state: states[o.id] ?? "active",
      drainStartedAt: null,
      health: UNKNOWN_HEALTH,
    })),
  };
}

// A fake clock: every time below is an offset from T (ms since the Unix epoch).
const T = 1_700_000_000_000;
const POLICY: RoutingPolicy = { slowStartMs: 10_000, drainMs: 20_000, panicPercent: 50 };

describe("bootstrapSnapshot", () => {
  test("gives epoch 0 and every origin active, keeping its fields", () => {
    const snapshot = bootstrapSnapshot(CONFIGS);
    expect(snapshot.epoch).toBe(0);
    expect(snapshot.origins).toEqual(
      CONFIGS.map((o) => ({ ...o, state: "active", drainStartedAt: null, health: UNKNOWN_HEALTH })),
    );
  });

  test("does NOT mutate the configured origins", () => {
    const configs = CONFIGS.map((o) => ({ ...o }));
    bootstrapSnapshot(configs);
    expect(configs).toEqual(CONFIGS);
    expect(configs.every((o) => !("state" in o))).toBe(true);
  });

  test("an empty list gives an empty snapshot", () => {
    expect(bootstrapSnapshot([])).toEqual({ epoch: 0, origins: [] });
  });
});

describe("buildRoutingTable", () => {
  const states: Record<string, AdminState> = { "eu-1": "draining", "us-1": "disabled" };
  const table = buildRoutingTable(withStates(CONFIGS, states), 40);

  test("aligns origins, and so the view's weights, with ring.ids; the view counts eligible origins", () => {
    expect(table.epoch).toBe(7);
    expect(table.ring.ids).toEqual(["ap-1", "eu-1", "eu-2", "us-1", "us-2"]);
    expect(table.origins.map((o) => o.id)).toEqual(table.ring.ids);
    expect(table.origins.map((o) => o.state)).toEqual(["active", "draining", "active", "disabled", "active"]);
    const view = routingView(table, POLICY, T);
    expect([...view.weights]).toEqual([1, 0, 1, 0, 1]);
    expect(view.eligibleCount).toBe(3);
    expect(view.panic).toBe(false);
    expect(view.validUntil).toBe(Infinity);
    expect(table.origins[2]).toEqual({
      ...origin("eu-2", 3, "eu"),
      state: "active",
      drainStartedAt: null,
      health: UNKNOWN_HEALTH,
    });
  });

  test("draining and disabled origins keep their ring points", () => {
    const allActive = buildRoutingTable(bootstrapSnapshot(CONFIGS), 40);
    expect(routingView(allActive, POLICY, T).eligibleCount).toBe(5);
    expect(table.ring.ids).toEqual(allActive.ring.ids);
    expect(Buffer.from(table.ring.points.buffer).equals(Buffer.from(allActive.ring.points.buffer))).toBe(true);
    expect(Buffer.from(table.ring.owners.buffer).equals(Buffer.from(allActive.ring.owners.buffer))).toBe(true);
    const nobody = buildRoutingTable(
      withStates(CONFIGS, Object.fromEntries(CONFIGS.map((o) => [o.id, "disabled" as const]))),
      40,
    );
    expect([...nobody.ring.points]).toEqual([...allActive.ring.points]);
  });

  test("the order of the snapshot's origins does not change the table", () => {
    const reversed = buildRoutingTable(withStates([...CONFIGS].reverse(), states), 40);
    expect(reversed.origins).toEqual(table.origins);
    expect([...routingView(reversed, POLICY, T).weights]).toEqual([...routingView(table, POLICY, T).weights]);
    expect([...reversed.ring.points]).toEqual([...table.ring.points]);
    expect([...reversed.ring.owners]).toEqual([...table.ring.owners]);
  });
});

describe("pickOrigins", () => {
  test.each([
    ["all disabled", withStates(CONFIGS, Object.fromEntries(CONFIGS.map((o) => [o.id, "disabled" as const])))],
    ["all draining", withStates(CONFIGS, Object.fromEntries(CONFIGS.map((o) => [o.id, "draining" as const])))],
    ["no origins", { epoch: 1, origins: [] }],
  ])("returns 0 and writes nothing with no eligible origin (%s)", (_, snapshot) => {
    const table = buildRoutingTable(snapshot, 20);
    const view = routingView(table, POLICY, T);
    expect(view.eligibleCount).toBe(0);
    const out = new Uint32Array(3).fill(99);
    for (const key of keyHashes(1, 200)) {
      expect(pickOrigins(table, view, key, out)).toBe(0);
      expect([...out]).toEqual([99, 99, 99]);
    }
  });

  test("writes into a plain array too, and never more than out.length", () => {
    const table = buildRoutingTable(bootstrapSnapshot(CONFIGS), 20);
    const view = routingView(table, POLICY, T);
    for (const key of keyHashes(2, 200)) {
      const out = [-1, -1];
      expect(pickOrigins(table, view, key, out)).toBe(2);
      expect(out.every((i) => i >= 0 && i < 5)).toBe(true);
      const long = new Array<number>(8).fill(-1);
      expect(pickOrigins(table, view, key, long)).toBe(5);
      expect(long.slice(5)).toEqual([-1, -1, -1]);
      expect(long.slice(0, 2)).toEqual(out);
    }
  });

  const stateArb = fc.constantFrom<AdminState>("active", "active", "draining", "disabled");
  const snapshotArb = fc
    .uniqueArray(
      fc.record({
        id: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,7}$/),
        weight: fc.constantFrom(0.5, 1, 2, 3),
        state: stateArb,
      }),
      { selector: (o) => o.id, minLength: 1, maxLength: 8 },
    )
    .map((list): Snapshot => ({
      epoch: 1,
      origins: list.map((o): OriginRecord => ({
        ...origin(o.id, o.weight),
        state: o.state,
        drainStartedAt: null,
        health: UNKNOWN_HEALTH,
      })),
    }));

  test("returns distinct eligible origins only, the primary first, as in the everyone-active walk", () => {
    fc.assert(
      fc.property(snapshotArb, fc.integer(), fc.integer({ min: 1, max: 9 }), (snapshot, seed, length) => {
        const table = buildRoutingTable(snapshot, 20);
        const view = routingView(table, POLICY, T);
        const full = buildRoutingTable(bootstrapSnapshot(snapshot.origins), 20);
        const fullView = routingView(full, POLICY, T);
        const out = new Uint32Array(length);
        const fullOut = new Uint32Array(full.origins.length);
        for (const key of keyHashes(seed, 300)) {
          const n = pickOrigins(table, view, key, out);
          const picked = [...out.subarray(0, n)];
          // The eligible walk is the everyone-active walk with the ineligible origins skipped.
          const m = pickOrigins(full, fullView, key, fullOut);
          const expected = [...fullOut.subarray(0, m)].filter((i) => view.weights[i] === 1).slice(0, length);
          const ok =
            n === Math.min(length, view.eligibleCount) &&
            new Set(picked).size === n &&
            picked.every((i) => table.origins[i]!.state === "active") &&
            picked.length === expected.length &&
            picked.every((i, j) => i === expected[j]);
          if (!ok) {
            const ids = (indices: number[]) => indices.map((i) => `${table.origins[i]!.id}:${table.origins[i]!.state}`);
            expect({ key, picked: ids(picked) }).toEqual({ key, picked: ids(expected) });
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  test.each(CONFIGS.flatMap((o) => (["disabled", "draining"] as const).map((state) => [o.id, state] as const)))(
    "with %s %s, every key's primary is the first other origin of its everyone-active walk (5,000 keys)",
    (id, state) => {
      const full = buildRoutingTable(bootstrapSnapshot(CONFIGS), 160);
      const reduced = buildRoutingTable(withStates(CONFIGS, { [id]: state }), 160);
      const [fullView, reducedView] = [routingView(full, POLICY, T), routingView(reduced, POLICY, T)];
      const skipped = full.ring.ids.indexOf(id);
      const walk = new Uint32Array(full.origins.length);
      const primary = new Uint32Array(1);
      let moved = 0;
      for (const key of keyHashes(0x5eed ^ skipped, 5_000)) {
        pickOrigins(full, fullView, key, walk);
        const expected = walk[0] === skipped ? walk[1]! : walk[0]!;
        if (walk[0] === skipped) moved++;
        expect(pickOrigins(reduced, reducedView, key, primary)).toBe(1);
        if (primary[0] !== expected) {
          expect({ key, primary: reduced.origins[primary[0]!]!.id }).toEqual({
            key,
            primary: full.origins[expected]!.id,
          });
        }
      }
      // The skipped origin owned some of the keys, so the comparison above did exercise a move.
      expect(moved).toBeGreaterThan(0);
    },
  );
});

// An origin record for the weight tables: active, healthy by default, with overrides.
function record(
  fields: Partial<Pick<OriginRecord, "state" | "drainStartedAt">> & { health?: Partial<HealthView> } = {},
  id = "o",
): OriginRecord {
  return {
    ...origin(id),
    state: fields.state ?? "active",
    drainStartedAt: fields.drainStartedAt ?? null,
    health: { ...UNKNOWN_HEALTH, status: "up", ...fields.health },
  };
}

describe("originWeight", () => {
  const noSlowStart = { ...POLICY, slowStartMs: 0 };
  const noDrain = { ...POLICY, drainMs: 0 };
  // [case, origin, policy, now (offset from T), weight]
  const table: [string, OriginRecord, RoutingPolicy, number, number][] = [
    ["active and up", record(), POLICY, 0, 1],
    [
      "unknown counts as healthy (nothing probed yet at bootstrap)",
      record({ health: { status: "unknown" } }),
      POLICY,
      0,
      1,
    ],
    ["down", record({ health: { status: "down" } }), POLICY, 0, 0],
    ["down, even long after a recovery", record({ health: { status: "down", recoveredAt: T - 60_000 } }), POLICY, 0, 0],
    ["disabled", record({ state: "disabled" }), POLICY, 0, 0],
    [
      "disabled in the middle of a slow start",
      record({ state: "disabled", health: { recoveredAt: T } }),
      POLICY,
      5_000,
      0,
    ],
    ["ejected, before expiry", record({ health: { ejectedUntil: T + 5_000 } }), POLICY, 0, 0],
    ["ejected, 1 ms before expiry", record({ health: { ejectedUntil: T + 5_000 } }), POLICY, 4_999, 0],
    [
      "ejected, at expiry: the slow start begins at 0",
      record({ health: { ejectedUntil: T + 5_000 } }),
      POLICY,
      5_000,
      0,
    ],
    ["ejected, half a slow start after expiry", record({ health: { ejectedUntil: T + 5_000 } }), POLICY, 10_000, 0.5],
    ["ejected, a full slow start after expiry", record({ health: { ejectedUntil: T + 5_000 } }), POLICY, 15_000, 1],
    ["ejected, at expiry without slow start", record({ health: { ejectedUntil: T + 5_000 } }), noSlowStart, 5_000, 1],
    [
      "ejected, before expiry without slow start",
      record({ health: { ejectedUntil: T + 5_000 } }),
      noSlowStart,
      4_999,
      0,
    ],
    ["unknown and ejected", record({ health: { status: "unknown", ejectedUntil: T + 1 } }), POLICY, 0, 0],
    ["slow start at 0 %", record({ health: { recoveredAt: T } }), POLICY, 0, 0],
    ["slow start at 25 %", record({ health: { recoveredAt: T } }), POLICY, 2_500, 0.25],
    ["slow start at 50 %", record({ health: { recoveredAt: T } }), POLICY, 5_000, 0.5],
    ["slow start at 100 %", record({ health: { recoveredAt: T } }), POLICY, 10_000, 1],
    ["slow start long over", record({ health: { recoveredAt: T } }), POLICY, 1_000_000, 1],
    [
      "recovery in the future (clock skew): nobody back yet",
      record({ health: { recoveredAt: T + 1_000 } }),
      POLICY,
      0,
      0,
    ],
    ["slowStartMs 0: everyone back at once", record({ health: { recoveredAt: T } }), noSlowStart, 0, 1],
    [
      "slow start runs from the later ejection end, not the earlier recovery",
      record({ health: { recoveredAt: T, ejectedUntil: T + 4_000 } }),
      POLICY,
      9_000,
      0.5,
    ],
    [
      "slow start runs from the later recovery, not the earlier ejection end",
      record({ health: { recoveredAt: T + 4_000, ejectedUntil: T } }),
      POLICY,
      9_000,
      0.5,
    ],
    ["drain at 0 %", record({ state: "draining", drainStartedAt: T }), POLICY, 0, 1],
    ["drain at 25 %", record({ state: "draining", drainStartedAt: T }), POLICY, 5_000, 0.75],
    ["drain at 50 %", record({ state: "draining", drainStartedAt: T }), POLICY, 10_000, 0.5],
    ["drain at 100 %", record({ state: "draining", drainStartedAt: T }), POLICY, 20_000, 0],
    ["drain long over", record({ state: "draining", drainStartedAt: T }), POLICY, 1_000_000, 0],
    [
      "drain starting in the future (clock skew) is clamped to 1",
      record({ state: "draining", drainStartedAt: T + 1_000 }),
      POLICY,
      0,
      1,
    ],
    ["drainMs 0: all clients leave at once", record({ state: "draining", drainStartedAt: T }), noDrain, 0, 0],
    ["draining without drainStartedAt", record({ state: "draining" }), POLICY, 0, 0],
    ["draining and down", record({ state: "draining", drainStartedAt: T, health: { status: "down" } }), POLICY, 0, 0],
    [
      "draining and ejected",
      record({ state: "draining", drainStartedAt: T, health: { ejectedUntil: T + 1 } }),
      POLICY,
      0,
      0,
    ],
    [
      "drain × slow start: 75 % left of a drain, 50 % into a slow start",
      record({ state: "draining", drainStartedAt: T, health: { recoveredAt: T } }),
      POLICY,
      5_000,
      0.375,
    ],
  ];

  test.each(table)("%s", (_, rec, policy, offset, weight) => {
    expect(originWeight(rec, policy, T + offset)).toBe(weight);
  });

  test("never leaves [0, 1] and never rises during a drain nor falls during a slow start", () => {
    const timeArb = fc.option(fc.integer({ min: -30_000, max: 30_000 }), { nil: null });
    fc.assert(
      fc.property(
        fc.constantFrom<AdminState>("active", "draining", "disabled"),
        fc.constantFrom("unknown", "up", "down") as fc.Arbitrary<HealthView["status"]>,
        timeArb,
        timeArb,
        timeArb,
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: -40_000, max: 40_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        (state, status, drain, ejected, recovered, slowStartMs, drainMs, offset, step) => {
          const toTime = (x: number | null) => (x === null ? null : T + x);
          const rec = record({
            state,
            drainStartedAt: toTime(drain),
            health: { status, ejectedUntil: toTime(ejected), recoveredAt: toTime(recovered) },
          });
          const policy = { slowStartMs, drainMs, panicPercent: 0 };
          const [a, b] = [originWeight(rec, policy, T + offset), originWeight(rec, policy, T + offset + step)];
          expect(a >= 0 && a <= 1 && b >= 0 && b <= 1).toBe(true);
          // Past the ejection, with no drain the weight only rises; with no slow start it only falls.
          const pastEjection = ejected === null || offset >= ejected;
          if (pastEjection && state === "active") expect(b).toBeGreaterThanOrEqual(a);
          if (pastEjection && state === "draining" && slowStartMs === 0) expect(b).toBeLessThanOrEqual(a);
        },
      ),
      { numRuns: 500 },
    );
  });
});

// Ten active origins, the first `down` of them down, plus one origin half-way through its drain
// and one disabled origin, at T.
function fleet(down: number, extra: Partial<RoutingPolicy> = {}) {
  const origins: OriginRecord[] = [
    ...Array.from({ length: 10 }, (_, i) => record({ health: { status: i < down ? "down" : "up" } }, `a${i}`)),
    record({ state: "draining", drainStartedAt: T - 10_000 }, "draining"),
    record({ state: "disabled" }, "disabled"),
  ];
  const table = buildRoutingTable({ epoch: 3, origins }, 20);
  const view = routingView(table, { ...POLICY, ...extra }, T);
  const weightOf = (id: string) => view.weights[table.ring.ids.indexOf(id)];
  return { table, view, weightOf };
}

describe("routingView", () => {
  test("weights are originWeight of each origin, in table order", () => {
    const origins = [
      record({}, "up"),
      record({ health: { status: "down" } }, "down"),
      record({ health: { recoveredAt: T - 2_500 } }, "ramping"),
      record({ state: "draining", drainStartedAt: T - 5_000 }, "draining"),
      record({ health: { ejectedUntil: T + 1 } }, "ejected"),
      record({ state: "disabled" }, "disabled"),
    ];
    const table = buildRoutingTable({ epoch: 1, origins: [...origins].reverse() }, 10);
    const view = routingView(table, POLICY, T);
    expect(table.origins.map((o, i) => [o.id, view.weights[i]])).toEqual(
      table.origins.map((o) => [o.id, originWeight(o, POLICY, T)]),
    );
    expect(Object.fromEntries(table.origins.map((o, i) => [o.id, view.weights[i]]))).toEqual({
      up: 1,
      down: 0,
      ramping: 0.25,
      draining: 0.75,
      ejected: 0,
      disabled: 0,
    });
    expect(view.eligibleCount).toBe(3);
    expect(view.panic).toBe(false);
  });

  test("panic: 4 of 10 active origins healthy, threshold 50 % → every active origin takes full weight", () => {
    const { view, weightOf } = fleet(6);
    expect(view.panic).toBe(true);
    for (let i = 0; i < 10; i++) expect(weightOf(`a${i}`)).toBe(1);
    // Draining and disabled are an operator's decision, not health data: panic does not override them.
    expect(weightOf("draining")).toBe(0.5);
    expect(weightOf("disabled")).toBe(0);
    expect(view.eligibleCount).toBe(11);
  });

  test("panic ignores ejections and ramps of active origins too", () => {
    const origins = [
      record({ health: { ejectedUntil: T + 1_000 } }, "ejected"),
      record({ health: { recoveredAt: T - 1_000 } }, "ramping"),
      record({ health: { status: "down" } }, "down"),
      record({}, "up"),
    ];
    const table = buildRoutingTable({ epoch: 1, origins }, 10);
    // 2 of 4 healthy (the ramping one has weight 0.1 > 0): panic under 60 %, not under 50 %.
    expect(routingView(table, { ...POLICY, panicPercent: 50 }, T).panic).toBe(false);
    const view = routingView(table, { ...POLICY, panicPercent: 60 }, T);
    expect(view.panic).toBe(true);
    expect([...view.weights]).toEqual([1, 1, 1, 1]);
    // Panic ends with the ejection: validUntil still follows the health-based weights.
    expect(view.validUntil).toBe(T + RAMP_STEP_MS);
  });

  test.each([
    [6, 50, false, 6 + 1],
    [5, 50, false, 5 + 1], // exactly 50 % is not below 50 %
    [4, 50, true, 10 + 1],
    [0, 50, true, 10 + 1],
    [9, 100, true, 10 + 1],
    [10, 100, false, 10 + 1],
    [0, 0, false, 0 + 1], // panicPercent 0 turns panic off: nothing active is left but the drain
  ])(
    "%i of 10 active origins healthy, threshold %i % → panic %s, %i eligible",
    (healthy, panicPercent, panic, eligible) => {
      const { view } = fleet(10 - healthy, { panicPercent });
      expect(view.panic).toBe(panic);
      expect(view.eligibleCount).toBe(eligible);
    },
  );

  test("no active origin: no panic, and nothing eligible when nothing drains", () => {
    const origins = [
      record({ state: "disabled" }, "a"),
      record({ state: "draining", drainStartedAt: T - 20_000 }, "b"),
      record({ state: "draining" }, "c"),
    ];
    const table = buildRoutingTable({ epoch: 1, origins }, 10);
    const view = routingView(table, { ...POLICY, panicPercent: 100 }, T);
    expect(view).toEqual({
      weights: new Float64Array(3),
      poolWeights: [new Float64Array(3)],
      poolEligible: new Int32Array(1),
      eligibleCount: 0,
      panic: false,
      validUntil: Infinity,
    });
    expect(pickOrigins(table, view, 12345, new Uint32Array(3))).toBe(0);
    expect(routingView(buildRoutingTable({ epoch: 1, origins: [] }, 10), POLICY, T)).toEqual({
      weights: new Float64Array(0),
      poolWeights: [new Float64Array(0)],
      poolEligible: new Int32Array(1),
      eligibleCount: 0,
      panic: false,
      validUntil: Infinity,
    });
  });

  // [case, origins, now (offset from T), validUntil (offset from T, or Infinity)]
  const validity: [string, OriginRecord[], number, number][] = [
    ["nothing time-dependent", [record(), record({ health: { status: "down" } }, "d")], 0, Infinity],
    ["bootstrap (all unknown)", bootstrapSnapshot([origin("a"), origin("b")]).origins as OriginRecord[], 0, Infinity],
    [
      "an ejection: its end (no re-sampling while the weight is 0)",
      [record({ health: { ejectedUntil: T + 5_000 } })],
      0,
      5_000,
    ],
    [
      "two ejections: the earlier end",
      [record({ health: { ejectedUntil: T + 5_000 } }, "a"), record({ health: { ejectedUntil: T + 3_000 } }, "b")],
      0,
      3_000,
    ],
    ["a slow start in progress: the next ramp step", [record({ health: { recoveredAt: T } })], 100, 100 + RAMP_STEP_MS],
    ["a slow start about to end: its end", [record({ health: { recoveredAt: T } })], 9_900, 10_000],
    [
      "a slow start not yet begun (clock skew): the next step",
      [record({ health: { recoveredAt: T + 1_000 } })],
      0,
      RAMP_STEP_MS,
    ],
    ["a slow start over", [record({ health: { recoveredAt: T } })], 10_000, Infinity],
    [
      "a drain in progress: the next ramp step",
      [record({ state: "draining", drainStartedAt: T })],
      5_000,
      5_000 + RAMP_STEP_MS,
    ],
    ["a drain about to end: its end", [record({ state: "draining", drainStartedAt: T })], 19_900, 20_000],
    ["a drain over", [record({ state: "draining", drainStartedAt: T })], 20_000, Infinity],
    [
      "an ejection ending before a ramp step",
      [record({ health: { ejectedUntil: T + 100 } }, "a"), record({ health: { recoveredAt: T } }, "b")],
      0,
      100,
    ],
    ["draining without drainStartedAt", [record({ state: "draining" })], 0, Infinity],
    [
      "an ejection outlasting the drain (the weight stays 0)",
      [record({ state: "draining", drainStartedAt: T, health: { ejectedUntil: T + 30_000 } })],
      0,
      Infinity,
    ],
    ["an ejected disabled origin", [record({ state: "disabled", health: { ejectedUntil: T + 5_000 } })], 0, Infinity],
    ["an ejected down origin", [record({ health: { status: "down", ejectedUntil: T + 5_000 } })], 0, Infinity],
    [
      "a down origin recovering (it has to come up first)",
      [record({ health: { status: "down", recoveredAt: T } })],
      0,
      Infinity,
    ],
  ];

  test.each(validity)("validUntil: %s", (_, origins, offset, until) => {
    const table = buildRoutingTable({ epoch: 1, origins }, 10);
    expect(routingView(table, { ...POLICY, panicPercent: 0 }, T + offset).validUntil).toBe(T + until);
  });

  test("validUntil: slowStartMs 0 and drainMs 0 leave nothing to re-sample", () => {
    const origins = [
      record({ health: { recoveredAt: T } }, "a"),
      record({ state: "draining", drainStartedAt: T }, "b"),
    ];
    const table = buildRoutingTable({ epoch: 1, origins }, 10);
    expect(routingView(table, { slowStartMs: 0, drainMs: 0, panicPercent: 0 }, T).validUntil).toBe(Infinity);
  });

  test("validUntil is after now, and the weights hold until then unless a ramp is re-sampled within RAMP_STEP_MS", () => {
    const timeArb = fc.option(fc.integer({ min: -20_000, max: 20_000 }), { nil: null });
    const originArb = fc.record({
      state: fc.constantFrom<AdminState>("active", "active", "draining", "disabled"),
      status: fc.constantFrom("unknown", "up", "down") as fc.Arbitrary<HealthView["status"]>,
      drain: timeArb,
      ejected: timeArb,
      recovered: timeArb,
    });
    fc.assert(
      fc.property(
        fc.array(originArb, { minLength: 1, maxLength: 8 }),
        fc.constantFrom(0, 1_000, 10_000),
        fc.constantFrom(0, 1_000, 10_000),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: -25_000, max: 25_000 }),
        (list, slowStartMs, drainMs, panicPercent, offset) => {
          const toTime = (x: number | null) => (x === null ? null : T + x);
          const origins = list.map((o, i) =>
            record(
              {
                state: o.state,
                drainStartedAt: toTime(o.drain),
                health: { status: o.status, ejectedUntil: toTime(o.ejected), recoveredAt: toTime(o.recovered) },
              },
              `o${i}`,
            ),
          );
          const table = buildRoutingTable({ epoch: 1, origins }, 5);
          const policy = { slowStartMs, drainMs, panicPercent };
          const now = T + offset;
          const view = routingView(table, policy, now);
          expect(view.validUntil).toBeGreaterThan(now);
          if (view.validUntil <= now + RAMP_STEP_MS) return;
          // Nothing ramps: the view stays exact until validUntil (sampled, plus its last millisecond).
          const end = Math.min(view.validUntil, now + 60_000);
          // Only instants before validUntil: at validUntil itself the view may change (an ejection
          // ends exactly at ejectedUntil).
          for (const t of [now + 1, now + 251, (now + end) / 2, end - 1].filter((t) => t < end)) {
            expect({ t, ...routingView(table, policy, t) }).toEqual({ t, ...view });
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("pickOrigins with fractional weights", () => {
  test("is the everyone-eligible walk with each origin kept iff its weight takes the key", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,7}$/), { minLength: 2, maxLength: 8 }),
        fc.array(fc.integer({ min: -5_000, max: 15_000 }), { minLength: 8, maxLength: 8 }),
        fc.integer(),
        (ids, recoveries, seed) => {
          const origins = ids.map((id, i) => record({ health: { recoveredAt: T + recoveries[i]! } }, id));
          const table = buildRoutingTable({ epoch: 1, origins }, 20);
          const view = routingView(table, { ...POLICY, panicPercent: 0 }, T + 5_000);
          const full = routingView(table, { ...POLICY, panicPercent: 0 }, T + 100_000);
          const out = new Uint32Array(ids.length);
          const fullOut = new Uint32Array(ids.length);
          for (const key of keyHashes(seed, 300)) {
            const n = pickOrigins(table, view, key, out);
            pickOrigins(table, full, key, fullOut);
            const expected = [...fullOut].filter(
              (i) => view.weights[i]! >= 1 || keyThreshold(key, table.ring.idHashes[i]!) < view.weights[i]!,
            );
            expect([...out.subarray(0, n)]).toEqual(expected);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("buildRoutingTable reuses the ring across health-only epochs", () => {
  const origin = (id: string, weight = 1, status: "up" | "down" = "up"): OriginRecord => ({
    ...record({ health: { status } }, id),
    weight,
  });

  test("same ids and weights: the very same ring object; a weight, a member or the setting changed: a new one", () => {
    const first = buildRoutingTable({ epoch: 1, origins: [origin("a"), origin("b")] }, 100);
    const healthOnly = buildRoutingTable({ epoch: 2, origins: [origin("b"), origin("a", 1, "down")] }, 100, first);
    expect(healthOnly.ring).toBe(first.ring);
    expect(healthOnly.origins.map((o) => o.health.status)).toEqual(["down", "up"]);
    expect(buildRoutingTable({ epoch: 3, origins: [origin("a", 2), origin("b")] }, 100, first).ring).not.toBe(
      first.ring,
    );
    expect(buildRoutingTable({ epoch: 3, origins: [origin("a"), origin("c")] }, 100, first).ring).not.toBe(first.ring);
    expect(buildRoutingTable({ epoch: 3, origins: [origin("a")] }, 100, first).ring).not.toBe(first.ring);
    expect(buildRoutingTable({ epoch: 3, origins: [origin("a"), origin("b")] }, 200, first).ring).not.toBe(first.ring);
  });
});

describe("regional pools", () => {
  const REGIONS = [
    { id: "eu", latitude: 50.11, longitude: 8.68, countries: [], continents: [] },
    { id: "us", latitude: 39.04, longitude: -77.49, countries: [], continents: [] },
  ];
  const POOLED: OriginConfig[] = [
    origin("eu-1", 1, "eu"),
    origin("eu-2", 1, "eu"),
    origin("eu-3", 1, "eu"),
    origin("us-1", 1, "us"),
    origin("us-2", 1, "us"),
    origin("x-1", 1, "mars"), // not a declared region: the catch-all pool
    origin("y-1", 1),
  ];
  const snapshotOf = (states: Record<string, AdminState> = {}): Snapshot => ({
    ...withStates(POOLED, states),
    regions: REGIONS,
    defaultRegion: "eu",
  });
  const keys = keyHashes(20_000, 11);
  const orderOf = (table: ReturnType<typeof buildRoutingTable>, ...ids: string[]) =>
    Uint32Array.from(ids, (id) => table.poolIndex.get(id)!);

  test("origins are grouped by declared region, regional pools by id, the catch-all last", () => {
    const table = buildRoutingTable(snapshotOf(), 40);
    expect(table.pools.map((pool) => pool.id)).toEqual(["eu", "us", ""]);
    const members = table.pools.map((pool) => [...pool.members].map((i) => table.origins[i]!.id));
    expect(members).toEqual([
      ["eu-1", "eu-2", "eu-3"],
      ["us-1", "us-2"],
      ["x-1", "y-1"],
    ]);
    // Each pool counts its own eligible origins (eu's members are table origins 0–2, an identity
    // prefix of the table, and must not count the others).
    const down = buildRoutingTable(snapshotOf({ "eu-1": "disabled", "eu-2": "disabled", "eu-3": "disabled" }), 40);
    expect([...routingView(down, POLICY, T).poolEligible]).toEqual([0, 2, 2]);
    expect(down.pools.map((pool) => pool.identity)).toEqual([false, false, false]);
    // Without regions the same origins are one pool, walked without translation.
    const flat = buildRoutingTable(withStates(POOLED, {}), 40);
    expect(flat.pools.map((pool) => [pool.id, pool.identity])).toEqual([["", true]]);
    // The order of the snapshot's origins changes nothing.
    const reversed = buildRoutingTable({ ...snapshotOf(), origins: [...snapshotOf().origins].reverse() }, 40);
    const view = routingView(table, POLICY, T);
    const out = new Uint32Array(3);
    const again = new Uint32Array(3);
    const order = orderOf(table, "us", "eu", "");
    for (const key of keys.slice(0, 2_000)) {
      pickOrigins(table, view, key, out, order);
      pickOrigins(reversed, routingView(reversed, POLICY, T), key, again, order);
      expect([...again].map((i) => reversed.origins[i]!.id)).toEqual([...out].map((i) => table.origins[i]!.id));
    }
  });

  test("the home pool gives the primary and its successor, the next pool the last of 3 places; 2 places stay home", () => {
    const table = buildRoutingTable(snapshotOf(), 40);
    const view = routingView(table, POLICY, T);
    const order = orderOf(table, "eu", "us", "");
    const three = new Uint32Array(3);
    const two = new Uint32Array(2);
    const five = new Uint32Array(5);
    for (const key of keys.slice(0, 2_000)) {
      expect(pickOrigins(table, view, key, three, order)).toBe(3);
      expect([...three].map((i) => table.origins[i]!.region)).toEqual(["eu", "eu", "us"]);
      expect(pickOrigins(table, view, key, two, order)).toBe(2);
      expect([...two]).toEqual([...three.slice(0, 2)]);
      // With room for more, the home pool's last origin comes before the next pool's second.
      expect(pickOrigins(table, view, key, five, order)).toBe(5);
      expect([...five].map((i) => table.origins[i]!.region)).toEqual(["eu", "eu", "eu", "us", "us"]);
    }
  });

  test("a pool with no eligible origin: its clients go to the next pool, placed there as that pool's own clients", () => {
    const healthy = buildRoutingTable(snapshotOf(), 40);
    const euDown = buildRoutingTable(snapshotOf({ "eu-1": "disabled", "eu-2": "disabled", "eu-3": "disabled" }), 40);
    const healthyView = routingView(healthy, POLICY, T);
    const downView = routingView(euDown, POLICY, T);
    const euFirst = orderOf(euDown, "eu", "us", "");
    const usFirst = orderOf(euDown, "us", "eu", "");
    const a = new Uint32Array(1);
    const b = new Uint32Array(1);
    const spread = new Set<string>();
    for (const key of keys) {
      expect(pickOrigins(euDown, downView, key, a, euFirst)).toBe(1);
      pickOrigins(healthy, healthyView, key, b, usFirst);
      // Sticky in us by the same key: where a us client with this key goes.
      expect(euDown.origins[a[0]!]!.id).toBe(healthy.origins[b[0]!]!.id);
      spread.add(euDown.origins[a[0]!]!.id);
      // us's own clients did not move.
      pickOrigins(euDown, downView, key, a, usFirst);
      expect(euDown.origins[a[0]!]!.id).toBe(healthy.origins[b[0]!]!.id);
    }
    expect(spread).toEqual(new Set(["us-1", "us-2"]));
  });

  test("one origin down in a pool moves only its own clients, within the pool", () => {
    const healthy = buildRoutingTable(snapshotOf(), 40);
    const oneDown = buildRoutingTable(snapshotOf({ "eu-2": "disabled" }), 40);
    const order = orderOf(healthy, "eu", "us", "");
    const a = new Uint32Array(1);
    const b = new Uint32Array(1);
    let moved = 0;
    for (const key of keys) {
      pickOrigins(healthy, routingView(healthy, POLICY, T), key, a, order);
      pickOrigins(oneDown, routingView(oneDown, POLICY, T), key, b, order);
      const before = healthy.origins[a[0]!]!.id;
      const after = oneDown.origins[b[0]!]!.id;
      if (before === "eu-2") {
        moved++;
        expect(["eu-1", "eu-3"]).toContain(after);
      } else expect(after).toBe(before);
    }
    expect(moved / keys.length).toBeGreaterThan(0.3);
    expect(moved / keys.length).toBeLessThan(0.37);
  });
});
