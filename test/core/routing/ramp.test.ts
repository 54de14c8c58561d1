// Slow start, drain and panic over whole rings: only the ramping origin's own clients move, each
// to or from its own ring successor, exactly once, and every isolate agrees.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { keyThreshold } from "../../../src/core/ring/ring.ts";
import { buildRoutingTable, type RoutingTable } from "../../../src/core/routing/routing-table.ts";
import {
  originWeight,
  routingView,
  type RoutingPolicy,
  type RoutingView,
} from "../../../src/core/routing/routing-view.ts";
import { pickOrigins } from "../../../src/core/routing/pick-origins.ts";
import {
  UNKNOWN_HEALTH,
  type AdminState,
  type HealthView,
  type OriginRecord,
  type Snapshot,
} from "../../../src/core/model.ts";
import { keyHashes } from "../key-hashes.ts";

const KEYS = 5_000;
const RUNS = { numRuns: 100 };
const T0 = 1_700_000_000_000;

function record(id: string, weight: number, fields: Partial<OriginRecord> = {}): OriginRecord {
  return {
    id,
    url: `https://${id}.example`,
    weight,
    region: null,
    state: "active",
    drainStartedAt: null,
    health: UNKNOWN_HEALTH,
    ...fields,
  };
}

// Primary origin index of every key under a view.
function primaries(table: RoutingTable, view: RoutingView, keys: Uint32Array): Int32Array {
  const result = new Int32Array(keys.length);
  const out = new Uint32Array(1);
  for (let k = 0; k < keys.length; k++) result[k] = pickOrigins(table, view, keys[k]!, out) === 1 ? out[0]! : -1;
  return result;
}

interface RingInput {
  readonly origins: readonly { readonly id: string; readonly weight: number; readonly status: HealthView["status"] }[];
  readonly pick: number;
  readonly vnodes: number;
  readonly seed: number;
}

// A ring of 3–12 origins, all active and healthy, and one of them picked as the subject.
const ringArb: fc.Arbitrary<RingInput> = fc.record({
  origins: fc.uniqueArray(
    fc.record({
      id: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,7}$/),
      weight: fc.constantFrom(0.5, 1, 2, 3),
      status: fc.constantFrom<HealthView["status"]>("unknown", "up"),
    }),
    { selector: (o) => o.id, minLength: 3, maxLength: 12 },
  ),
  pick: fc.nat(),
  vnodes: fc.integer({ min: 5, max: 60 }),
  seed: fc.integer(),
});

// Sample instants across a window [T0, T0 + length]: some before, inside and after it, plus its
// start, middle and end, in increasing order.
function samplesArb(length: number) {
  return fc
    .uniqueArray(fc.double({ min: -0.25, max: 1.25, noNaN: true }), { minLength: 4, maxLength: 12 })
    .map((fractions) =>
      [...new Set([...fractions, 0, 0.5, 1].map((f) => T0 + Math.round(f * length)))].sort((a, b) => a - b),
    );
}

const clamp = (x: number) => Math.min(1, Math.max(0, x));

interface Scenario {
  readonly table: RoutingTable;
  readonly subject: number; // index into table.origins
  readonly keys: Uint32Array;
  readonly full: Int32Array; // primaries with the subject fully eligible
  readonly successor: Int32Array; // primaries with the subject skipped
}

// The reference mappings come from separate snapshots (subject healthy, subject disabled), so
// they do not depend on the ramp code under test.
function scenario(ring: RingInput, subjectFields: Partial<OriginRecord>, policy: RoutingPolicy): Scenario {
  const subjectId = ring.origins[ring.pick % ring.origins.length]!.id;
  const build = (fields: Partial<OriginRecord>) => {
    const origins = ring.origins.map((o) =>
      record(o.id, o.weight, {
        health: { ...UNKNOWN_HEALTH, status: o.status },
        ...(o.id === subjectId ? fields : {}),
      }),
    );
    return buildRoutingTable({ epoch: 1, origins }, ring.vnodes);
  };
  const table = build(subjectFields);
  const keys = keyHashes(ring.seed, KEYS);
  const fullTable = build({});
  const successorTable = build({ state: "disabled" });
  expect(fullTable.ring.ids).toEqual(table.ring.ids);
  return {
    table,
    subject: table.ring.ids.indexOf(subjectId),
    keys,
    full: primaries(fullTable, routingView(fullTable, policy, T0), keys),
    successor: primaries(successorTable, routingView(successorTable, policy, T0), keys),
  };
}

// Follows every key's primary over increasing instants and checks it against `expected`; returns
// the first violation, or undefined, and how many keys changed primary at all.
function follow(
  s: Scenario,
  policy: RoutingPolicy,
  times: readonly number[],
  expected: (k: number, t: number) => number,
): { violation?: object; changed: number } {
  const last = new Int32Array(KEYS).fill(-2);
  const changes = new Uint8Array(KEYS);
  for (const t of times) {
    const view = routingView(s.table, policy, t);
    expect(view.panic).toBe(false);
    const now = primaries(s.table, view, s.keys);
    for (let k = 0; k < KEYS; k++) {
      if (now[k] !== expected(k, t)) {
        const id = (i: number) => s.table.origins[i]?.id ?? null;
        return {
          violation: { key: s.keys[k], t: t - T0, primary: id(now[k]!), expected: id(expected(k, t)) },
          changed: 0,
        };
      }
      if (last[k] !== -2 && last[k] !== now[k]) changes[k]!++;
      last[k] = now[k]!;
    }
  }
  let changed = 0;
  for (let k = 0; k < KEYS; k++) {
    if (changes[k]! > 1) return { violation: { key: s.keys[k], changes: changes[k] }, changed };
    if (changes[k]! === 1 && s.full[k] !== s.subject)
      return { violation: { key: s.keys[k], notSubjects: true }, changed };
    changed += changes[k]!;
  }
  return { changed };
}

describe("slow start and drain over a whole ring", { timeout: 120_000 }, () => {
  test("slow start moves each client exactly once and only the recovering origin's clients move", () => {
    let exercised = 0;
    fc.assert(
      fc.property(
        ringArb,
        fc
          .integer({ min: 1_000, max: 600_000 })
          .chain((slowStartMs) => fc.tuple(fc.constant(slowStartMs), samplesArb(slowStartMs))),
        fc.constantFrom("probe", "ejection"),
        (ring, [slowStartMs, times], via) => {
          const policy: RoutingPolicy = { slowStartMs, drainMs: 60_000, panicPercent: 50 };
          // Recovered at T0, either by a probe verdict or by the end of an ejection (after an
          // older recovery): before T0 it takes nobody.
          const health: HealthView =
            via === "probe"
              ? { status: "up", ejectedUntil: null, recoveredAt: T0 }
              : { status: "up", ejectedUntil: T0, recoveredAt: T0 - 3_600_000 };
          const s = scenario(ring, { health }, policy);
          const idHash = s.table.ring.idHashes[s.subject]!;
          // The exact rule: a client of R is back on R once the ramp passes its threshold for R,
          // and on its successor-path primary until then; every other client stays put.
          const expected = (k: number, t: number) =>
            s.full[k] === s.subject && keyThreshold(s.keys[k]!, idHash) < clamp((t - T0) / slowStartMs)
              ? s.subject
              : s.successor[k]!;
          const { violation, changed } = follow(s, policy, times, expected);
          expect(violation).toBeUndefined();
          if (changed > 0) exercised++;
          // At the end of the window the mapping is the everyone-eligible one.
          expect(primaries(s.table, routingView(s.table, policy, T0 + slowStartMs), s.keys)).toEqual(s.full);
        },
      ),
      RUNS,
    );
    expect(exercised).toBeGreaterThan(RUNS.numRuns / 2);
  });

  test("drain moves each of the draining origin's clients to its successor exactly once, and nobody else", () => {
    let exercised = 0;
    fc.assert(
      fc.property(
        ringArb,
        fc
          .integer({ min: 1_000, max: 600_000 })
          .chain((drainMs) => fc.tuple(fc.constant(drainMs), samplesArb(drainMs))),
        (ring, [drainMs, times]) => {
          const policy: RoutingPolicy = { slowStartMs: 60_000, drainMs, panicPercent: 50 };
          const s = scenario(ring, { state: "draining", drainStartedAt: T0 }, policy);
          const idHash = s.table.ring.idHashes[s.subject]!;
          // The same rule in reverse: a client of D stays on D while the drain has not passed its
          // threshold for D, then goes to its successor-path primary for good.
          const expected = (k: number, t: number) =>
            s.full[k] === s.subject && keyThreshold(s.keys[k]!, idHash) < clamp(1 - (t - T0) / drainMs)
              ? s.subject
              : s.successor[k]!;
          const { violation, changed } = follow(s, policy, times, expected);
          expect(violation).toBeUndefined();
          if (changed > 0) exercised++;
          // After drainMs nobody maps to D, and the mapping is the D-disabled one.
          const after = primaries(s.table, routingView(s.table, policy, T0 + drainMs), s.keys);
          expect(after.includes(s.subject)).toBe(false);
          expect(after).toEqual(s.successor);
        },
      ),
      RUNS,
    );
    expect(exercised).toBeGreaterThan(RUNS.numRuns / 2);
  });

  test("the share moved at time t of a slow start is ramp(t) × the origin's key share (reported)", () => {
    const fractions = [0.1, 0.25, 0.5, 0.75, 0.9];
    let worstShare = 0; // largest |moved/KEYS − ramp × share| over all runs and instants
    let worstZ = 0; // the same in standard deviations of Binomial(R's keys, ramp)
    let sumShare = 0;
    let samples = 0;
    fc.assert(
      fc.property(ringArb, fc.integer({ min: 1_000, max: 600_000 }), (ring, slowStartMs) => {
        const policy: RoutingPolicy = { slowStartMs, drainMs: 0, panicPercent: 50 };
        const s = scenario(ring, { health: { status: "up", ejectedUntil: null, recoveredAt: T0 } }, policy);
        let owned = 0;
        for (let k = 0; k < KEYS; k++) if (s.full[k] === s.subject) owned++;
        for (const f of fractions) {
          const now = primaries(s.table, routingView(s.table, policy, T0 + f * slowStartMs), s.keys);
          let moved = 0;
          for (let k = 0; k < KEYS; k++) if (now[k] !== s.successor[k]) moved++;
          const deviation = Math.abs(moved - f * owned);
          const sigma = Math.sqrt(owned * f * (1 - f));
          worstShare = Math.max(worstShare, deviation / KEYS);
          worstZ = Math.max(worstZ, sigma > 0 ? deviation / sigma : 0);
          sumShare += deviation / KEYS;
          samples++;
          // Each of R's clients moves independently with probability ramp(t), so the count is
          // Binomial(R's keys, ramp): within 5σ (plus rounding) in all but ~1 of 10^6 samples.
          expect(deviation).toBeLessThanOrEqual(5 * sigma + 1);
        }
      }),
      RUNS,
    );
    console.log(
      `slow-start moved share vs ramp × share over ${samples} samples (${KEYS} keys): ` +
        `max |Δ| = ${worstShare.toFixed(4)} of all keys, mean |Δ| = ${(sumShare / samples).toFixed(4)}, max z = ${worstZ.toFixed(2)}`,
    );

    // A fixed ring for the record: 10 equal origins × 160 vnodes, origin-0 recovering over 60 s.
    const ids = Array.from({ length: 10 }, (_, i) => `origin-${i}`);
    const fixed: RingInput = {
      origins: ids.map((id) => ({ id, weight: 1, status: "up" })),
      pick: 0,
      vnodes: 160,
      seed: 0x5107_5747,
    };
    const policy: RoutingPolicy = { slowStartMs: 60_000, drainMs: 0, panicPercent: 50 };
    const s = scenario(fixed, { health: { status: "up", ejectedUntil: null, recoveredAt: T0 } }, policy);
    let owned = 0;
    for (let k = 0; k < KEYS; k++) if (s.full[k] === s.subject) owned++;
    const rows = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1].map((f) => {
      const now = primaries(s.table, routingView(s.table, policy, T0 + f * 60_000), s.keys);
      let moved = 0;
      for (let k = 0; k < KEYS; k++) if (now[k] !== s.successor[k]) moved++;
      return `t=${f * 60}s ramp=${f}: moved ${moved} = ${(moved / KEYS).toFixed(4)} (ramp × share = ${((f * owned) / KEYS).toFixed(4)})`;
    });
    console.log(`origin-0 of 10 (${owned} of ${KEYS} keys = ${(owned / KEYS).toFixed(4)}):\n  ${rows.join("\n  ")}`);
  });
});

// Any origin in any state, with times around NOW, as a Durable Object might ship it.
const NOW = T0 + 1_000_000;
const timeArb = fc.option(
  fc.integer({ min: -120_000, max: 120_000 }).map((x) => NOW + x),
  { nil: null },
);
const anyOriginArb = fc.record({
  id: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,7}$/),
  weight: fc.constantFrom(0.5, 1, 2, 3),
  state: fc.constantFrom<AdminState>("active", "active", "draining", "disabled"),
  drainStartedAt: timeArb,
  status: fc.constantFrom<HealthView["status"]>("unknown", "up", "down"),
  ejectedUntil: timeArb,
  recoveredAt: timeArb,
});
type AnyOrigin = typeof anyOriginArb extends fc.Arbitrary<infer A> ? A : never;
const toRecord = (o: AnyOrigin): OriginRecord =>
  record(o.id, o.weight, {
    state: o.state,
    drainStartedAt: o.drainStartedAt,
    health: { status: o.status, ejectedUntil: o.ejectedUntil, recoveredAt: o.recoveredAt },
  });

describe("determinism and panic", { timeout: 120_000 }, () => {
  test("the same snapshot, policy and now give identical walks in separately built tables, whatever the order", () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(anyOriginArb, { selector: (o) => o.id, minLength: 3, maxLength: 12 })
          .chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length }))),
        fc.record({
          slowStartMs: fc.constantFrom(0, 1_000, 60_000),
          drainMs: fc.constantFrom(0, 1_000, 60_000),
          panicPercent: fc.integer({ min: 0, max: 100 }),
        }),
        fc.integer({ min: -130_000, max: 130_000 }),
        fc.integer({ min: 5, max: 60 }),
        fc.integer(),
        ([list, shuffled], policy, offset, vnodes, seed) => {
          const now = NOW + offset;
          // Each isolate gets its own copy over the wire (JSON), in its own order.
          const wire = (origins: AnyOrigin[]): Snapshot =>
            JSON.parse(JSON.stringify({ epoch: 9, origins: origins.map(toRecord) })) as Snapshot;
          const a = buildRoutingTable(wire(list), vnodes);
          const b = buildRoutingTable(wire(shuffled), vnodes);
          const [viewA, viewB] = [routingView(a, policy, now), routingView(b, policy, now)];
          expect(b.ring.ids).toEqual(a.ring.ids);
          expect(viewB).toEqual(viewA);
          const n = a.origins.length;
          const [outA, outB] = [new Uint32Array(n), new Uint32Array(n)];
          for (const key of keyHashes(seed, KEYS)) {
            const countA = pickOrigins(a, viewA, key, outA);
            const countB = pickOrigins(b, viewB, key, outB);
            let same = countA === countB;
            for (let j = 0; same && j < countA; j++) same = a.origins[outA[j]!]!.id === b.origins[outB[j]!]!.id;
            if (!same) {
              const ids = (t: RoutingTable, out: Uint32Array, count: number) =>
                [...out.subarray(0, count)].map((i) => t.origins[i]!.id);
              expect({ key, walk: ids(b, outB, countB) }).toEqual({ key, walk: ids(a, outA, countA) });
            }
          }
        },
      ),
      RUNS,
    );
  });

  test("in panic, pickOrigins never returns a disabled origin and makes every active origin a primary", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(anyOriginArb, { selector: (o) => o.id, minLength: 3, maxLength: 12 }),
        fc.nat(),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.integer(),
        (list, pick, u, seed) => {
          // At least one active origin, and at least one of them down, so a threshold can trigger panic.
          const first = pick % list.length;
          const origins = list.map((o, i) =>
            toRecord(i === first ? { ...o, state: "active", status: "down" } : { ...o, weight: o.weight >= 2 ? 2 : 1 }),
          );
          const base: RoutingPolicy = { slowStartMs: 60_000, drainMs: 60_000, panicPercent: 0 };
          const active = origins.filter((o) => o.state === "active");
          const healthy = active.filter((o) => originWeight(o, base, NOW) > 0).length;
          const healthyPercent = (healthy / active.length) * 100;
          const policy = { ...base, panicPercent: healthyPercent + u * (100 - healthyPercent) };
          const table = buildRoutingTable({ epoch: 1, origins }, 40);
          const view = routingView(table, policy, NOW);
          expect(view.panic).toBe(true);
          const n = table.origins.length;
          const out = new Uint32Array(n);
          const primaryCount = new Array<number>(n).fill(0);
          // Every active origin has weight 1 in panic; a draining one may be part-way (taken per key).
          const full = [...view.weights].filter((w) => w >= 1).length;
          expect(full).toBeGreaterThanOrEqual(active.length);
          for (const key of keyHashes(seed, KEYS)) {
            const count = pickOrigins(table, view, key, out);
            expect(count >= full && count <= view.eligibleCount).toBe(true);
            for (let j = 0; j < count; j++) expect(table.origins[out[j]!]!.state).not.toBe("disabled");
            if (count > 0) primaryCount[out[0]!]!++;
          }
          const idle = table.origins.filter((o, i) => o.state === "active" && primaryCount[i] === 0).map((o) => o.id);
          expect(idle).toEqual([]);
        },
      ),
      RUNS,
    );
  });
});
