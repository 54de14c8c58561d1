// The Durable Object's edge-wide view: reports of many isolates and locations merged over a sliding
// window, in memory bounded by origins and hot keys, whatever the clients.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { combineReports } from "../../../src/core/traffic/combine-reports.ts";
import type { KeyCount, TrafficReport } from "../../../src/core/traffic/traffic-report.ts";
import {
  createTrafficWindow,
  mergeTrafficReport,
  trafficView,
  TRAFFIC_BUCKETS,
} from "../../../src/core/traffic/traffic-window.ts";
import { userBit } from "../../../src/core/traffic/user-bits.ts";

const T0 = 1_800_000_000_000; // a multiple of every bucket length used here

function report(source: string, origins: Record<string, [number, number]>, keys: KeyCount[] = []): TrafficReport {
  const requests = Object.values(origins).reduce((s, [r]) => s + r, 0);
  return {
    version: 1,
    source,
    spanMs: 10_000,
    requests,
    origins: Object.entries(origins).map(([id, [r, e]]) => ({ id, requests: r, errors: e })),
    keys,
  };
}

const key = (name: string, count: number, userBits = 0): KeyCount => ({
  key: name,
  hash: name.length * 7919,
  count,
  overestimate: 0,
  userBits,
});

describe("the edge-wide view", () => {
  test("counts from several isolates and locations add up, as rates over the time covered", () => {
    const window = createTrafficWindow({ windowMs: 60_000, keysMax: 8 });
    mergeTrafficReport(
      window,
      report("fra-1", { a: [600, 6], b: [300, 0] }, [key("nat", 400, userBit(1) | userBit(2))]),
      T0 + 10_000,
    );
    mergeTrafficReport(window, report("fra-2", { a: [100, 0] }, [key("nat", 100, userBit(3))]), T0 + 20_000);
    mergeTrafficReport(window, report("nrt", { b: [200, 2], c: [50, 0] }, [key("api", 150)]), T0 + 20_000);
    const view = trafficView(window, T0 + 20_000);
    expect(view.coveredMs).toBe(20_000);
    expect(view.origins).toEqual([
      { id: "a", requests: 700, errors: 6, requestsPerSecond: 35, errorsPerSecond: 0.3 },
      { id: "b", requests: 500, errors: 2, requestsPerSecond: 25, errorsPerSecond: 0.1 },
      { id: "c", requests: 50, errors: 0, requestsPerSecond: 2.5, errorsPerSecond: 0 },
    ]);
    expect(view.keys.map((k) => [k.key, k.count, k.rate])).toEqual([
      ["nat", 500, 25],
      ["api", 150, 7.5],
    ]);
    expect(view.keys[0]!.users).toBeGreaterThan(2.5);
    expect(view.keys[0]!.share).toBeCloseTo(500 / 1_250);
  });

  test("the window slides: a bucket leaves whole once it is a window old", () => {
    const window = createTrafficWindow({ windowMs: 60_000, keysMax: 8 });
    mergeTrafficReport(window, report("x", { a: [100, 0] }), T0);
    mergeTrafficReport(window, report("x", { a: [60, 0] }), T0 + 50_000);
    expect(trafficView(window, T0 + 59_999).origins[0]!.requests).toBe(160);
    expect(trafficView(window, T0 + 60_000).origins[0]!.requests).toBe(60);
    expect(trafficView(window, T0 + 120_000).origins).toEqual([]);
    // A clock that went back by a whole window is not counted into a newer bucket.
    mergeTrafficReport(window, report("x", { a: [5, 0] }), T0 - 60_000);
    expect(trafficView(window, T0 + 59_999).origins[0]!.requests).toBe(160);
  });

  test("memory is buckets × (origins + keysMax), whatever the number of clients and reporters", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 1_000_000 }), (keysMax, seed) => {
        const window = createTrafficWindow({ windowMs: 60_000, keysMax });
        for (let r = 0; r < 200; r++) {
          const keys = Array.from({ length: 20 }, (_, i) => key(`c-${seed}-${r}-${i}`, 1 + ((r * i) % 7)));
          mergeTrafficReport(window, report(`iso-${r}`, { a: [20, 0], b: [5, 1] }, keys), T0 + r * 1_000);
        }
        for (const bucket of window.buckets) {
          expect(bucket.keys.entries.size).toBeLessThanOrEqual(keysMax);
          expect(bucket.origins.size).toBeLessThanOrEqual(2);
        }
        expect(window.buckets).toHaveLength(TRAFFIC_BUCKETS);
        expect(trafficView(window, T0 + 200_000).keys.length).toBeLessThanOrEqual(keysMax);
      }),
      { numRuns: 30 },
    );
  });

  test("a heavy key is kept however many light ones crowd the table, its count a lower bound", () => {
    const window = createTrafficWindow({ windowMs: 60_000, keysMax: 4 });
    for (let r = 0; r < 50; r++) {
      const light = Array.from({ length: 10 }, (_, i) => key(`light-${r}-${i}`, 2));
      mergeTrafficReport(window, report(`iso-${r}`, { a: [70, 0] }, [key("heavy", 50), ...light]), T0 + r * 100);
    }
    const view = trafficView(window, T0 + 5_000);
    expect(view.keys[0]).toMatchObject({ key: "heavy" });
    expect(view.keys[0]!.count - view.keys[0]!.overestimate).toBeLessThanOrEqual(50 * 50);
    expect(view.keys[0]!.count).toBeGreaterThanOrEqual(50 * 50);
    expect(view.keyFloorRate).toBeGreaterThan(0);
  });

  test("the same reports in any order give the same view (below the key table's capacity)", () => {
    const reportArb = fc.record({
      a: fc.integer({ min: 0, max: 1_000 }),
      b: fc.integer({ min: 0, max: 1_000 }),
      keys: fc.uniqueArray(fc.constantFrom("k1", "k2", "k3", "k4", "k5"), { maxLength: 5 }),
    });
    fc.assert(
      fc.property(fc.array(reportArb, { minLength: 1, maxLength: 20 }), fc.integer(), (reports, seed) => {
        const built = reports.map((r, i) =>
          report(
            `iso-${i}`,
            { a: [r.a, 0], b: [r.b, Math.floor(r.b / 10)] },
            r.keys.map((k) => key(k, r.a % 17)),
          ),
        );
        const order = built
          .map((_, i) => i)
          .sort((x, y) => ((x * 7919 + seed) % 101) - ((y * 7919 + seed) % 101) || x - y);
        const one = createTrafficWindow({ windowMs: 60_000, keysMax: 8 });
        const two = createTrafficWindow({ windowMs: 60_000, keysMax: 8 });
        built.forEach((r) => mergeTrafficReport(one, r, T0 + 1_000));
        order.forEach((i) => mergeTrafficReport(two, built[i]!, T0 + 1_000));
        expect(trafficView(two, T0 + 5_000)).toEqual(trafficView(one, T0 + 5_000));
        // A location's roll-up carries the same sums as its isolates' reports one by one.
        const rolled = createTrafficWindow({ windowMs: 60_000, keysMax: 8 });
        mergeTrafficReport(rolled, combineReports(built, "fra")!, T0 + 1_000);
        const a = trafficView(rolled, T0 + 5_000);
        const b = trafficView(one, T0 + 5_000);
        expect(a.origins).toEqual(b.origins);
        expect(a.keys).toEqual(b.keys);
      }),
      { numRuns: 100 },
    );
  });
});
