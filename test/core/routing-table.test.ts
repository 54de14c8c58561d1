import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { OriginConfig } from "../../src/core/config";
import {
  bootstrapSnapshot,
  buildRoutingTable,
  pickOrigins,
  type AdminState,
  type OriginRecord,
  type Snapshot,
} from "../../src/core/routing-table";

// Deterministic stream of unsigned 32-bit key hashes (splitmix32), as in ring.test.ts.
function keyHashes(seed: number, count: number): Uint32Array {
  const keys = new Uint32Array(count);
  let s = seed | 0;
  for (let i = 0; i < count; i++) {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    keys[i] = (z ^ (z >>> 16)) >>> 0;
  }
  return keys;
}

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
  return { epoch, origins: configs.map((o) => ({ ...o, state: states[o.id] ?? "active" })) };
}

describe("bootstrapSnapshot", () => {
  test("gives epoch 0 and every origin active, keeping its fields", () => {
    const snapshot = bootstrapSnapshot(CONFIGS);
    expect(snapshot.epoch).toBe(0);
    expect(snapshot.origins).toEqual(CONFIGS.map((o) => ({ ...o, state: "active" })));
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

  test("aligns origins and eligibility with ring.ids and counts eligible origins", () => {
    expect(table.epoch).toBe(7);
    expect(table.ring.ids).toEqual(["ap-1", "eu-1", "eu-2", "us-1", "us-2"]);
    expect(table.origins.map((o) => o.id)).toEqual(table.ring.ids);
    expect(table.origins.map((o) => o.state)).toEqual(["active", "draining", "active", "disabled", "active"]);
    expect([...table.eligible]).toEqual([1, 0, 1, 0, 1]);
    expect(table.eligibleCount).toBe(3);
    expect(table.origins[2]).toEqual({ ...origin("eu-2", 3, "eu"), state: "active" });
  });

  test("draining and disabled origins keep their ring points", () => {
    const allActive = buildRoutingTable(bootstrapSnapshot(CONFIGS), 40);
    expect(allActive.eligibleCount).toBe(5);
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
    expect([...reversed.eligible]).toEqual([...table.eligible]);
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
    const out = new Uint32Array(3).fill(99);
    for (const key of keyHashes(1, 200)) {
      expect(pickOrigins(table, key, out)).toBe(0);
      expect([...out]).toEqual([99, 99, 99]);
    }
  });

  test("writes into a plain array too, and never more than out.length", () => {
    const table = buildRoutingTable(bootstrapSnapshot(CONFIGS), 20);
    for (const key of keyHashes(2, 200)) {
      const out = [-1, -1];
      expect(pickOrigins(table, key, out)).toBe(2);
      expect(out.every((i) => i >= 0 && i < 5)).toBe(true);
      const long = new Array<number>(8).fill(-1);
      expect(pickOrigins(table, key, long)).toBe(5);
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
      origins: list.map((o): OriginRecord => ({ ...origin(o.id, o.weight), state: o.state })),
    }));

  test("returns distinct eligible origins only, the primary first, as in the everyone-active walk", () => {
    fc.assert(
      fc.property(snapshotArb, fc.integer(), fc.integer({ min: 1, max: 9 }), (snapshot, seed, length) => {
        const table = buildRoutingTable(snapshot, 20);
        const full = buildRoutingTable(bootstrapSnapshot(snapshot.origins), 20);
        const out = new Uint32Array(length);
        const fullOut = new Uint32Array(full.origins.length);
        for (const key of keyHashes(seed, 300)) {
          const n = pickOrigins(table, key, out);
          const picked = [...out.subarray(0, n)];
          // The eligible walk is the everyone-active walk with the ineligible origins skipped.
          const m = pickOrigins(full, key, fullOut);
          const expected = [...fullOut.subarray(0, m)].filter((i) => table.eligible[i] === 1).slice(0, length);
          const ok =
            n === Math.min(length, table.eligibleCount) &&
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
      const skipped = full.ring.ids.indexOf(id);
      const walk = new Uint32Array(full.origins.length);
      const primary = new Uint32Array(1);
      let moved = 0;
      for (const key of keyHashes(0x5eed ^ skipped, 5_000)) {
        pickOrigins(full, key, walk);
        const expected = walk[0] === skipped ? walk[1]! : walk[0]!;
        if (walk[0] === skipped) moved++;
        expect(pickOrigins(reduced, key, primary)).toBe(1);
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
