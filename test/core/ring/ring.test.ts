import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { xxh32String } from "../../../src/core/hash.ts";
import {
  buildRing,
  firstPointAt,
  keyThreshold,
  walkRing,
  type Ring,
  type RingMember,
} from "../../../src/core/ring/ring.ts";
import { keyHashes } from "../key-hashes.ts";

// Random keys plus the boundaries of every point (just below, at, just above) and the ends of
// the key space, where off-by-one errors in the search and the wrap-around would show.
function keysFor(seed: number, ring: Ring, count = 2000): number[] {
  const keys = [...keyHashes(seed, count), 0, 0xffffffff];
  for (const p of ring.points) keys.push((p - 1) >>> 0, p, (p + 1) >>> 0);
  return keys;
}

function allEligible(ring: Ring): boolean[] {
  return ring.ids.map(() => true);
}

function walkIds(ring: Ring, key: number, eligible: ArrayLike<boolean | number> = allEligible(ring)): string[] {
  const out = new Uint32Array(ring.ids.length);
  const n = walkRing(ring, key, eligible, out);
  return [...out.subarray(0, n)].map((i) => ring.ids[i]!);
}

const everyone = new Uint8Array(64).fill(1);
const primaryOut = new Uint32Array(1);
function primaryId(ring: Ring, key: number): string | undefined {
  return walkRing(ring, key, everyone, primaryOut) === 1 ? ring.ids[primaryOut[0]!] : undefined;
}

// First key whose full walk differs between two rings (compared by member id), or undefined.
function firstDifference(
  keys: readonly number[],
  a: Ring,
  eligibleA: ArrayLike<boolean | number>,
  b: Ring,
  eligibleB: ArrayLike<boolean | number>,
): { key: number; a: string[]; b: string[] } | undefined {
  const bToA = b.ids.map((id) => a.ids.indexOf(id));
  const outA = new Uint32Array(Math.max(a.ids.length, b.ids.length));
  const outB = new Uint32Array(outA.length);
  for (const key of keys) {
    const countA = walkRing(a, key, eligibleA, outA);
    const countB = walkRing(b, key, eligibleB, outB);
    let same = countA === countB;
    for (let j = 0; same && j < countA; j++) same = bToA[outB[j]!] === outA[j];
    if (!same)
      return {
        key,
        a: walkIds(a, key, eligibleA),
        b: walkIds(b, key, eligibleB),
      };
  }
  return undefined;
}

// Straightforward reference: scan the whole turn with a Set, no early exits. A weight takes a member
// when it is true or ≥ 1, or when it is a fraction above the key's threshold for that member.
function takes(ring: Ring, key: number, member: number, weight: boolean | number | undefined): boolean {
  if (weight === true || (typeof weight === "number" && weight >= 1)) return true;
  if (typeof weight !== "number" || !(weight > 0)) return false;
  return keyThreshold(key, xxh32String(ring.ids[member]!)) < weight;
}

function referenceWalk(ring: Ring, key: number, eligible: ArrayLike<boolean | number>, limit: number): number[] {
  const n = ring.points.length;
  let start = ring.points.findIndex((p) => p >= key >>> 0);
  if (start < 0) start = 0;
  const seen = new Set<number>();
  const result: number[] = [];
  for (let step = 0; step < n && result.length < limit; step++) {
    const owner = ring.owners[(start + step) % n]!;
    if (seen.has(owner)) continue;
    seen.add(owner);
    if (takes(ring, key, owner, eligible[owner])) result.push(owner);
  }
  return result;
}

const memberArb = fc.record({
  id: fc.string({ minLength: 1, maxLength: 8 }),
  weight: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.double({ min: 0.05, max: 4, noNaN: true })),
});
const membersArb = (minLength: number) =>
  fc.uniqueArray(memberArb, {
    selector: (m) => m.id,
    minLength,
    maxLength: 12,
  });
const vnodesArb = fc.integer({ min: 1, max: 40 });
const seedArb = fc.integer({ min: 0, max: 0xffffffff });
const RUNS = { numRuns: 200 };

function equalMembers(count: number): RingMember[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `origin-${i}`,
    weight: 1,
  }));
}

describe("buildRing", () => {
  test("table: points come from xxh32String(id + NUL + replica), sorted, with their owners", () => {
    const ring = buildRing(
      [
        { id: "b", weight: 2 },
        { id: "a", weight: 1 },
      ],
      2,
    );
    // Golden positions: these pin the placement formula forever (changing them moves clients).
    const golden: [string, number, number][] = [
      ["a", 0, 0x901728a9],
      ["a", 1, 0x3374dc71],
      ["b", 0, 0x2cded951],
      ["b", 1, 0x008cae9e],
      ["b", 2, 0xdbc1539e],
      ["b", 3, 0xbf3a6bd4],
    ];
    for (const [id, r, position] of golden) expect(xxh32String(`${id}\u0000${r}`)).toBe(position);

    expect(ring.ids).toEqual(["a", "b"]);
    expect([...ring.points]).toEqual([0x008cae9e, 0x2cded951, 0x3374dc71, 0x901728a9, 0xbf3a6bd4, 0xdbc1539e]);
    expect([...ring.owners]).toEqual([1, 1, 0, 0, 1, 1]);

    const table: [number, number, string[]][] = [
      [0x00000000, 0, ["b", "a"]],
      [0x008cae9d, 0, ["b", "a"]],
      [0x008cae9e, 0, ["b", "a"]],
      [0x008cae9f, 1, ["b", "a"]],
      [0x2cded951, 1, ["b", "a"]],
      [0x2cded952, 2, ["a", "b"]],
      [0x3374dc70, 2, ["a", "b"]],
      [0x3374dc71, 2, ["a", "b"]],
      [0x3374dc72, 3, ["a", "b"]],
      [0x901728a9, 3, ["a", "b"]],
      [0x901728aa, 4, ["b", "a"]],
      [0xdbc1539e, 5, ["b", "a"]],
      // Past the last point the walk wraps to the first.
      [0xdbc1539f, 0, ["b", "a"]],
      [0xffffffff, 0, ["b", "a"]],
    ];
    for (const [key, first, ids] of table) {
      expect(firstPointAt(ring, key), `key ${key.toString(16)}`).toBe(first);
      expect(walkIds(ring, key), `key ${key.toString(16)}`).toEqual(ids);
    }
    expect(walkIds(ring, 0x2cded952, [false, true])).toEqual(["b"]);
    expect(walkIds(ring, 0x2cded952, [1, 0])).toEqual(["a"]);
    expect(walkIds(ring, 0x2cded952, [0, 0])).toEqual([]);
  });

  test("round(weight × vnodesPerWeight) points per member, at least one", () => {
    const ring = buildRing(
      [
        { id: "x", weight: 0.001 },
        { id: "y", weight: 1.26 },
        { id: "z", weight: 3 },
      ],
      10,
    );
    const counts = [0, 0, 0];
    for (const o of ring.owners) counts[o]!++;
    expect(counts).toEqual([1, 13, 30]);
  });

  test("a real position collision is tie-broken by id, not by replica or input order", () => {
    // Found by search: xxh32String("origin-16706\0" + 0) === xxh32String("origin-115627\0" + 1).
    const collision = 0x81e88a6a;
    expect(xxh32String("origin-16706\u00000")).toBe(collision);
    expect(xxh32String("origin-115627\u00001")).toBe(collision);
    const a = { id: "origin-16706", weight: 1 };
    const b = { id: "origin-115627", weight: 1 };
    for (const members of [
      [a, b],
      [b, a],
    ]) {
      const ring = buildRing(members, 2);
      expect(ring.ids).toEqual(["origin-115627", "origin-16706"]);
      const i = ring.points.indexOf(collision);
      expect([...ring.points.subarray(i, i + 2)]).toEqual([collision, collision]);
      // "origin-115627" < "origin-16706" in code unit order, although its colliding replica is higher.
      expect([...ring.owners.subarray(i, i + 2)]).toEqual([0, 1]);
      expect(walkIds(ring, collision)).toEqual(["origin-115627", "origin-16706"]);
      expect(walkIds(ring, collision, [false, true])).toEqual(["origin-16706"]);
    }
  });

  test("every permutation of the input yields byte-identical ids, points and owners", () => {
    const members: RingMember[] = [
      { id: "origin-b", weight: 2 },
      { id: "Origin-a", weight: 1 },
      { id: "origin-a", weight: 1.5 },
      { id: "örigin", weight: 1 },
      { id: "origin-10", weight: 3 },
    ];
    const permutations = (xs: RingMember[]): RingMember[][] =>
      xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations(xs.filter((_, j) => j !== i)).map((p) => [x, ...p]));
    const reference = buildRing(members, 50);
    // Code unit order, not locale order: uppercase before lowercase, "10" before "a", "ö" last.
    expect(reference.ids).toEqual(["Origin-a", "origin-10", "origin-a", "origin-b", "örigin"]);
    const all = permutations(members);
    expect(all).toHaveLength(120);
    for (const order of all) {
      const ring = buildRing(order, 50);
      expect(ring.ids).toEqual(reference.ids);
      expect(Buffer.from(ring.points.buffer).equals(Buffer.from(reference.points.buffer))).toBe(true);
      expect(Buffer.from(ring.owners.buffer).equals(Buffer.from(reference.owners.buffer))).toBe(true);
    }
  });

  test("points ascend and every member owns its share of points", () => {
    fc.assert(
      fc.property(membersArb(1), vnodesArb, (members, vnodes) => {
        const ring = buildRing(members, vnodes);
        expect(ring.points.length).toBe(ring.owners.length);
        for (let i = 1; i < ring.points.length; i++) expect(ring.points[i - 1]!).toBeLessThanOrEqual(ring.points[i]!);
        const counts = new Array<number>(ring.ids.length).fill(0);
        for (const o of ring.owners) counts[o]!++;
        for (const m of members) {
          expect(counts[ring.ids.indexOf(m.id)]).toBe(Math.max(1, Math.round(m.weight * vnodes)));
        }
      }),
      RUNS,
    );
  });

  test("idHashes are xxh32String(id) of each member, in id order", () => {
    expect([
      ...buildRing(
        [
          { id: "b", weight: 2 },
          { id: "a", weight: 1 },
        ],
        2,
      ).idHashes,
    ]).toEqual([xxh32String("a"), xxh32String("b")]);
    fc.assert(
      fc.property(membersArb(0), vnodesArb, (members, vnodes) => {
        const ring = buildRing(members, vnodes);
        expect([...ring.idHashes]).toEqual(ring.ids.map((id) => xxh32String(id)));
      }),
      RUNS,
    );
  });

  test("rejects duplicate ids and invalid weights or vnode counts", () => {
    expect(() =>
      buildRing(
        [
          { id: "a", weight: 1 },
          { id: "b", weight: 1 },
          { id: "a", weight: 2 },
        ],
        10,
      ),
    ).toThrow(/duplicate/);
    expect(() => buildRing([{ id: "a", weight: 0 }], 10)).toThrow(RangeError);
    expect(() => buildRing([{ id: "a", weight: -1 }], 10)).toThrow(RangeError);
    expect(() => buildRing([{ id: "a", weight: Number.NaN }], 10)).toThrow(RangeError);
    expect(() => buildRing([{ id: "a", weight: Infinity }], 10)).toThrow(RangeError);
    expect(() => buildRing([{ id: "a", weight: 1 }], 0)).toThrow(RangeError);
    expect(buildRing([], 10).points.length).toBe(0);
  });
});

describe("keyThreshold", () => {
  test("table: fmix32(keyHash ^ idHash) / 2^32, pinned forever (changing it moves ramping clients)", () => {
    const table: [number, string, number][] = [
      [0x00000000, "a", 3219607971],
      [0xffffffff, "a", 3021725879],
      [0x12345678, "origin-1", 3367849891],
      [0xdeadbeef, "origin-2", 2555814502],
    ];
    for (const [key, id, scaled] of table) expect(keyThreshold(key, xxh32String(id))).toBe(scaled / 2 ** 32);
    // The XOR of equal hashes is 0, which fmix32 maps to 0: the smallest threshold, taken by any weight > 0.
    expect(keyThreshold(0x550d7456, 0x550d7456)).toBe(0);
    // Signed and unsigned spellings of one hash are one key.
    expect(keyThreshold(-1, 7)).toBe(keyThreshold(0xffffffff, 7));
  });

  test("lies in [0, 1) and each decile holds 10 % ± 1 % of 100,000 random (key, member) pairs", () => {
    const keys = keyHashes(0x31415926, 100_000);
    const ids = keyHashes(0x27182818, 100_000);
    const deciles = new Array<number>(10).fill(0);
    for (let i = 0; i < keys.length; i++) {
      const t = keyThreshold(keys[i]!, ids[i]!);
      expect(t >= 0 && t < 1).toBe(true);
      deciles[Math.floor(t * 10)]!++;
    }
    const shares = deciles.map((c) => c / keys.length);
    console.log(`keyThreshold deciles: ${shares.map((x) => x.toFixed(4)).join(" ")}`);
    for (const share of shares) expect(Math.abs(share - 0.1)).toBeLessThanOrEqual(0.01);
  });

  test("one member's thresholds are uniform within every tenth of the key space (no tie to ring position)", () => {
    const idHash = xxh32String("origin-0");
    const counts = Array.from({ length: 10 }, () => [0, 0]);
    for (const key of keyHashes(0x600dcafe, 200_000)) {
      const arc = counts[Math.floor((key / 2 ** 32) * 10)]!;
      arc[0]!++;
      if (keyThreshold(key, idHash) < 0.3) arc[1]!++;
    }
    for (const [total, below] of counts) expect(Math.abs(below! / total! - 0.3)).toBeLessThanOrEqual(0.015);
  });

  test("two members' thresholds for the same keys are unrelated (both below 1/2 for 1/4 ± 0.01 of keys)", () => {
    const [a, b] = [xxh32String("origin-1"), xxh32String("origin-2")];
    const keys = keyHashes(0x0badf00d, 100_000);
    let both = 0;
    for (const key of keys) if (keyThreshold(key, a) < 0.5 && keyThreshold(key, b) < 0.5) both++;
    expect(Math.abs(both / keys.length - 0.25)).toBeLessThanOrEqual(0.01);
  });
});

describe("walkRing properties", { timeout: 30_000 }, () => {
  test("agrees with a plain reference walk for any eligibility and out length", () => {
    fc.assert(
      fc.property(membersArb(2), vnodesArb, seedArb, (members, vnodes, seed) => {
        const ring = buildRing(members, vnodes);
        const n = ring.ids.length;
        const masks = keyHashes(seed ^ 0x5bd1e995, 8);
        const keys = keysFor(seed, ring);
        const outs = Array.from({ length: n + 2 }, (_, len) => new Uint32Array(len));
        for (let k = 0; k < keys.length; k++) {
          const mask = masks[k & 7]!;
          const eligible = ring.ids.map((_, i) => (mask >>> i) & 1);
          const out = outs[k % (n + 2)]!;
          const count = walkRing(ring, keys[k]!, eligible, out);
          const expected = referenceWalk(ring, keys[k]!, eligible, out.length);
          if (count !== expected.length || expected.some((m, j) => out[j] !== m)) {
            expect({
              key: keys[k],
              eligible,
              walk: [...out.subarray(0, count)],
            }).toEqual({
              key: keys[k],
              eligible,
              walk: expected,
            });
          }
        }
      }),
      RUNS,
    );
  });

  test("agrees with the reference walk for fractional weights (keyThreshold < weight takes)", () => {
    const weightArb = fc.constantFrom(0, 1, true, false, 2, -0.5, Number.NaN, 0.001, 0.25, 0.5, 0.75, 0.999);
    fc.assert(
      fc.property(
        membersArb(2),
        vnodesArb,
        seedArb,
        fc.array(weightArb, { minLength: 12, maxLength: 12 }),
        (members, vnodes, seed, weights) => {
          const ring = buildRing(members, vnodes);
          const eligible = weights.slice(0, ring.ids.length);
          const out = new Uint32Array(ring.ids.length);
          for (const key of keysFor(seed, ring, 500)) {
            const count = walkRing(ring, key, eligible, out);
            const expected = referenceWalk(ring, key, eligible, out.length);
            if (count !== expected.length || expected.some((m, j) => out[j] !== m)) {
              expect({ key, eligible, walk: [...out.subarray(0, count)] }).toEqual({ key, eligible, walk: expected });
            }
          }
        },
      ),
      RUNS,
    );
  });

  test("raising one member's weight only moves keys onto it, each from its successor-path primary", () => {
    fc.assert(
      fc.property(
        membersArb(2),
        vnodesArb,
        seedArb,
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (members, vnodes, seed, pick, w1, w2) => {
          const ring = buildRing(members, vnodes);
          const m = pick % ring.ids.length;
          const [low, high] = w1 <= w2 ? [w1, w2] : [w2, w1];
          const weightsAt = (w: number) => ring.ids.map((_, i) => (i === m ? w : 1));
          const [atLow, atHigh, without] = [weightsAt(low), weightsAt(high), weightsAt(0)];
          const [a, b, c] = [new Uint32Array(1), new Uint32Array(1), new Uint32Array(1)];
          for (const key of keysFor(seed, ring, 500)) {
            walkRing(ring, key, atLow, a);
            walkRing(ring, key, atHigh, b);
            walkRing(ring, key, without, c);
            const ok = (a[0] === m ? b[0] === m : b[0] === a[0] || b[0] === m) && (a[0] === m || a[0] === c[0]);
            if (!ok) expect({ key, low, high, primaries: [a[0], b[0], c[0]] }).toEqual({ key, m });
          }
        },
      ),
      RUNS,
    );
  });

  test("the same members in any order give identical primaries and successor lists", () => {
    fc.assert(
      fc.property(
        membersArb(2).chain((ms) => fc.tuple(fc.constant(ms), fc.shuffledSubarray(ms, { minLength: ms.length }))),
        vnodesArb,
        seedArb,
        ([members, shuffled], vnodes, seed) => {
          const a = buildRing(members, vnodes);
          const b = buildRing(shuffled, vnodes);
          expect(b.ids).toEqual(a.ids);
          expect(firstDifference(keysFor(seed, a), a, allEligible(a), b, allEligible(b))).toBeUndefined();
        },
      ),
      RUNS,
    );
  });

  test("removing a member moves only its keys, each to its old first successor", () => {
    fc.assert(
      fc.property(membersArb(2), vnodesArb, seedArb, fc.nat(), (members, vnodes, seed, pick) => {
        const removedId = members[pick % members.length]!.id;
        const before = buildRing(members, vnodes);
        const after = buildRing(
          members.filter((m) => m.id !== removedId),
          vnodes,
        );
        const removed = before.ids.indexOf(removedId);
        const toBefore = after.ids.map((id) => before.ids.indexOf(id));
        const [allBefore, allAfter] = [allEligible(before), allEligible(after)];
        const old = new Uint32Array(2);
        const now = new Uint32Array(1);
        for (const key of keysFor(seed, before)) {
          walkRing(before, key, allBefore, old);
          walkRing(after, key, allAfter, now);
          const expected = old[0] === removed ? old[1] : old[0];
          if (toBefore[now[0]!] !== expected) {
            expect({ key, primary: after.ids[now[0]!] }).toEqual({
              key,
              primary: before.ids[expected!],
            });
          }
        }
      }),
      RUNS,
    );
  });

  test("marking members ineligible equals removing them, and re-enabling restores the mapping", () => {
    fc.assert(
      fc.property(
        membersArb(2).chain((ms) =>
          fc.tuple(fc.constant(ms), fc.subarray(ms, { minLength: 1, maxLength: ms.length - 1 })),
        ),
        vnodesArb,
        seedArb,
        ([members, disabled], vnodes, seed) => {
          const full = buildRing(members, vnodes);
          const disabledIds = new Set(disabled.map((m) => m.id));
          const reduced = buildRing(
            members.filter((m) => !disabledIds.has(m.id)),
            vnodes,
          );
          const keys = keysFor(seed, full);
          const snapshot = buildRing(members, vnodes);
          const eligible = full.ids.map((id) => !disabledIds.has(id));
          expect(firstDifference(keys, reduced, allEligible(reduced), full, eligible)).toBeUndefined();
          eligible.fill(true);
          expect(firstDifference(keys, snapshot, allEligible(snapshot), full, eligible)).toBeUndefined();
        },
      ),
      RUNS,
    );
  });

  test("keys moved off a removed member spread over at least 2 members (≥ 4 members, 100 vnodes)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), {
          minLength: 4,
          maxLength: 12,
        }),
        seedArb,
        fc.nat(),
        (ids, seed, pick) => {
          const members = ids.map((id) => ({ id, weight: 1 }));
          const removedId = ids[pick % ids.length]!;
          const before = buildRing(members, 100);
          const after = buildRing(
            members.filter((m) => m.id !== removedId),
            100,
          );
          const removed = before.ids.indexOf(removedId);
          const [allBefore, allAfter] = [allEligible(before), allEligible(after)];
          const landed = new Set<number>();
          const out = new Uint32Array(1);
          for (const key of keyHashes(seed, 2000)) {
            walkRing(before, key, allBefore, out);
            if (out[0] !== removed) continue;
            walkRing(after, key, allAfter, out);
            landed.add(out[0]!);
          }
          expect(landed.size).toBeGreaterThanOrEqual(2);
        },
      ),
      RUNS,
    );
  });

  test("adding a member moves only keys whose new primary is the newcomer", () => {
    fc.assert(
      fc.property(membersArb(3), vnodesArb, seedArb, fc.nat(), (members, vnodes, seed, pick) => {
        const addedId = members[pick % members.length]!.id;
        const before = buildRing(
          members.filter((m) => m.id !== addedId),
          vnodes,
        );
        const after = buildRing(members, vnodes);
        const added = after.ids.indexOf(addedId);
        const toAfter = before.ids.map((id) => after.ids.indexOf(id));
        const [allBefore, allAfter] = [allEligible(before), allEligible(after)];
        const old = new Uint32Array(1);
        const now = new Uint32Array(1);
        for (const key of keysFor(seed, after)) {
          walkRing(before, key, allBefore, old);
          walkRing(after, key, allAfter, now);
          if (now[0] !== added && now[0] !== toAfter[old[0]!]) {
            expect({ key, primary: after.ids[now[0]!] }).toEqual({
              key,
              primary: before.ids[old[0]!],
            });
          }
        }
      }),
      RUNS,
    );
  });

  test("weights 1 and 3 at 160 vnodes: the heavy member owns 0.75 ± 0.06 of 100,000 keys", () => {
    const keys = keyHashes(0x2545f491, 100_000);
    const out = new Uint32Array(1);
    const eligible = [true, true];
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), {
          minLength: 2,
          maxLength: 2,
        }),
        ([light, heavy]) => {
          const ring = buildRing(
            [
              { id: light!, weight: 1 },
              { id: heavy!, weight: 3 },
            ],
            160,
          );
          const heavyIndex = ring.ids.indexOf(heavy!);
          let owned = 0;
          for (const key of keys) {
            walkRing(ring, key, eligible, out);
            if (out[0] === heavyIndex) owned++;
          }
          expect(Math.abs(owned / keys.length - 0.75)).toBeLessThanOrEqual(0.06);
        },
      ),
      // Pinned seed: the heavy share over random ids has a standard deviation of about 0.017, so
      // ±0.06 is ~3.5σ and about 1 random id pair in 2,200 falls outside it; unpinned, 200 runs
      // would fail roughly once in 11 test runs.
      { numRuns: 200, seed: 20240601 },
    );
  });
});

describe("walkRing edge cases", () => {
  const ring = buildRing(equalMembers(6), 20);

  test("returns 0 when nothing is eligible, for an empty out, and for an empty ring", () => {
    const out = new Uint32Array(6);
    for (const key of keyHashes(1, 500)) {
      expect(walkRing(ring, key, [false, false, false, false, false, false], out)).toBe(0);
      expect(walkRing(ring, key, new Uint8Array(6), out)).toBe(0);
      expect(walkRing(ring, key, [], out)).toBe(0);
      expect(walkRing(ring, key, allEligible(ring), new Uint32Array(0))).toBe(0);
    }
    const empty = buildRing([], 10);
    expect(walkRing(empty, 123, [], out)).toBe(0);
    expect(firstPointAt(empty, 123)).toBe(0);
  });

  test("respects out.length and returns every member once when out is long enough", () => {
    const eligible = allEligible(ring);
    for (const key of keyHashes(2, 500)) {
      const full = new Uint32Array(6);
      expect(walkRing(ring, key, eligible, full)).toBe(6);
      expect(new Set(full).size).toBe(6);
      for (let len = 1; len <= 6; len++) {
        const out = new Uint32Array(len);
        expect(walkRing(ring, key, eligible, out)).toBe(len);
        expect([...out]).toEqual([...full.subarray(0, len)]);
      }
      const long = new Array<number>(9).fill(-1);
      expect(walkRing(ring, key, eligible, long)).toBe(6);
      expect(long.slice(0, 6)).toEqual([...full]);
      expect(long.slice(6)).toEqual([-1, -1, -1]);
    }
  });

  test("weights above 1 take, and negative, NaN and missing weights skip", () => {
    const out = new Uint32Array(6);
    for (const key of keyHashes(4, 500)) {
      expect(walkRing(ring, key, [2, 1e9, Infinity, 1, 1.5, true], out)).toBe(6);
      expect(walkRing(ring, key, [-1, Number.NaN, -Infinity, 0, -0, false], out)).toBe(0);
      expect(walkRing(ring, key, [1, 1, 1], out)).toBe(3);
    }
  });

  test("a single eligible member is found from any key", () => {
    const out = new Uint32Array(3);
    for (let only = 0; only < 6; only++) {
      const eligible = ring.ids.map((_, i) => i === only);
      for (const key of keyHashes(3 + only, 200)) {
        expect(walkRing(ring, key, eligible, out)).toBe(1);
        expect(out[0]).toBe(only);
      }
    }
  });
});

describe("distribution (fixed ids, printed for the record)", { timeout: 30_000 }, () => {
  test("balance: 10 equal members × 160 vnodes, 200,000 keys, max/mean ≤ 1.25", () => {
    const ring = buildRing(equalMembers(10), 160);
    const load = new Array<number>(10).fill(0);
    const out = new Uint32Array(1);
    const eligible = allEligible(ring);
    const keys = keyHashes(0x1234567, 200_000);
    for (const key of keys) {
      walkRing(ring, key, eligible, out);
      load[out[0]!]!++;
    }
    const ratio = Math.max(...load) / (keys.length / 10);
    console.log(
      `balance: max/mean = ${ratio.toFixed(3)}, min/mean = ${(Math.min(...load) / (keys.length / 10)).toFixed(3)}`,
    );
    expect(ratio).toBeLessThanOrEqual(1.25);
  });

  test("removal spread: 10 members × 160 vnodes, keys moved off one member land on at least 5", () => {
    const members = equalMembers(10);
    const before = buildRing(members, 160);
    const after = buildRing(members.slice(1), 160);
    const landed = new Map<string, number>();
    for (const key of keyHashes(0xabcdef, 200_000)) {
      if (primaryId(before, key) !== "origin-0") continue;
      const now = primaryId(after, key)!;
      landed.set(now, (landed.get(now) ?? 0) + 1);
    }
    console.log(`removal spread: keys of origin-0 moved to ${landed.size} of 9 members`, Object.fromEntries(landed));
    expect(landed.size).toBeGreaterThanOrEqual(5);
  });

  test("weight w on one of 10 members (160 vnodes) gives it w × its full share ± 0.002 of 200,000 keys", () => {
    const ring = buildRing(equalMembers(10), 160);
    const keys = keyHashes(0x5eed1e55, 200_000);
    const out = new Uint32Array(1);
    const rows: string[] = [];
    for (let m = 0; m < 10; m += 3) {
      const shareAt = (w: number) => {
        const eligible = ring.ids.map((_, i) => (i === m ? w : 1));
        let owned = 0;
        for (const key of keys) if (walkRing(ring, key, eligible, out) === 1 && out[0] === m) owned++;
        return owned / keys.length;
      };
      const full = shareAt(1);
      for (const w of [0, 0.1, 0.25, 0.5, 0.75, 0.9]) {
        const share = shareAt(w);
        rows.push(`${ring.ids[m]} w=${w}: ${share.toFixed(4)} (w × ${full.toFixed(4)} = ${(w * full).toFixed(4)})`);
        expect(Math.abs(share - w * full)).toBeLessThanOrEqual(0.002);
      }
    }
    console.log(`fractional weights:\n  ${rows.join("\n  ")}`);
  });

  test("adding an 11th member to 10 (160 vnodes) moves 1/11 ± 0.03 of keys, all to the newcomer", () => {
    const members = equalMembers(11);
    const before = buildRing(members.slice(0, 10), 160);
    const after = buildRing(members, 160);
    const keys = keyHashes(0x7654321, 200_000);
    let moved = 0;
    for (const key of keys) {
      const old = primaryId(before, key);
      const now = primaryId(after, key);
      if (old !== now) {
        moved++;
        expect(now).toBe("origin-10");
      }
    }
    const share = moved / keys.length;
    console.log(`add-one: moved share = ${share.toFixed(4)} (1/11 = ${(1 / 11).toFixed(4)})`);
    expect(Math.abs(share - 1 / 11)).toBeLessThanOrEqual(0.03);
  });
});

describe("bucket index", () => {
  /** The plain binary search the index replaces: the reference. */
  function reference(points: Uint32Array, key: number): number {
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < key >>> 0) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }

  test("firstPointAt agrees with a binary search for every ring size, at and around every point", () => {
    for (const [count, vnodes] of [
      [1, 1],
      [2, 3],
      [10, 160],
      [100, 160],
      [1000, 20],
    ] as const) {
      const ring = buildRing(
        Array.from({ length: count }, (_, i) => ({ id: `m-${i}`, weight: 1 })),
        vnodes,
      );
      const probes = [0, 1, 0xffffffff, 0xfffffffe, ...keyHashes(count, 2_000)];
      for (let i = 0; i < ring.points.length; i += Math.max(1, Math.floor(ring.points.length / 500))) {
        const p = ring.points[i]!;
        probes.push(p, (p + 1) >>> 0, (p - 1) >>> 0);
      }
      for (const key of probes)
        expect(firstPointAt(ring, key), `${count} members, key ${key}`).toBe(reference(ring.points, key));
    }
  });

  test("an empty ring maps every key to 0 and walks nothing", () => {
    const ring = buildRing([], 160);
    expect(firstPointAt(ring, 12345)).toBe(0);
    expect(walkRing(ring, 12345, [], new Uint32Array(3))).toBe(0);
  });
});
