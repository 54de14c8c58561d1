import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { clientKey, type ClientKey } from "../../../src/core/key/client-key.ts";
import { xxh32 } from "../../../src/core/hash.ts";
import {
  createTrafficStats,
  recordTraffic,
  trafficSnapshot,
  type TrafficStats,
} from "../../../src/core/status/traffic-stats.ts";

const T0 = 1_800_000_000_000; // a whole second

function record(stats: TrafficStats, ip: string | null, status: number, now: number): void {
  const key: ClientKey | null = ip === null ? null : clientKey(ip);
  recordTraffic(stats, key, key === null ? 0 : xxh32(key.bytes), status, now);
}

describe("request and error rates", () => {
  test("counts requests and 5xx per second over the window; rates divide by the seconds covered", () => {
    const stats = createTrafficStats();
    for (const status of [200, 200, 404]) record(stats, "192.0.2.1", status, T0 + 100);
    for (const status of [503, 200]) record(stats, "192.0.2.1", status, T0 + 1_900);
    const s = trafficSnapshot(stats, T0 + 1_950);
    expect(s).toMatchObject({ windowSeconds: 60, coveredSeconds: 2, requests: 5, errors: 1 });
    expect(s.requestsPerSecond).toBe(2.5);
    expect(s.errorsPerSecond).toBe(0.5);
    expect(s.series.requests.slice(-3)).toEqual([0, 3, 2]);
    expect(s.series.errors.slice(-3)).toEqual([0, 0, 1]);
    expect(s.series.requests).toHaveLength(60);
  });

  test("every status from 500 up is an error (the balancer's own 502/503/504/508 too); 4xx is NOT", () => {
    const stats = createTrafficStats();
    for (const status of [400, 404, 413, 429, 431, 499, 500, 502, 503, 504, 508]) record(stats, null, status, T0);
    expect(trafficSnapshot(stats, T0)).toMatchObject({ requests: 11, errors: 5 });
  });

  test("a second older than the window is forgotten, and its bucket starts from zero when reused", () => {
    const stats = createTrafficStats({ windowSeconds: 10, topK: 5 });
    for (let i = 0; i < 7; i++) record(stats, null, 500, T0);
    expect(trafficSnapshot(stats, T0 + 9_999)).toMatchObject({ requests: 7, errors: 7 });
    expect(trafficSnapshot(stats, T0 + 10_000)).toMatchObject({ requests: 0, errors: 0, coveredSeconds: 10 });
    record(stats, null, 200, T0 + 10_000); // the same bucket, ten seconds on
    const s = trafficSnapshot(stats, T0 + 10_000);
    expect(s).toMatchObject({ requests: 1, errors: 0 });
    expect(s.series.requests).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  test("the totals count every request and 5xx since the start, and never fall as the window moves on", () => {
    const stats = createTrafficStats({ windowSeconds: 10, topK: 5 });
    for (const status of [200, 500, 503]) record(stats, null, status, T0);
    expect(trafficSnapshot(stats, T0).totals).toEqual({ requests: 3, errors: 2 });
    record(stats, null, 404, T0 + 30_000);
    record(stats, null, 200, T0); // a clock gone back a whole window: not in the window, still a request
    const later = trafficSnapshot(stats, T0 + 30_000);
    expect(later).toMatchObject({ requests: 1, errors: 0, totals: { requests: 5, errors: 2 } });
  });

  test("a clock that goes back by more than a window does NOT wipe newer counts", () => {
    const stats = createTrafficStats({ windowSeconds: 10, topK: 5 });
    record(stats, null, 200, T0 + 20_000);
    record(stats, null, 200, T0);
    expect(trafficSnapshot(stats, T0 + 20_000)).toMatchObject({ requests: 1 });
  });

  test("nothing recorded: zero rates, no hot keys", () => {
    expect(trafficSnapshot(createTrafficStats(), T0)).toMatchObject({
      requests: 0,
      coveredSeconds: 0,
      requestsPerSecond: 0,
      hot: { since: null, requests: 0, keys: [] },
    });
  });
});

describe("hottest client keys", () => {
  test("with fewer keys than counters the counts are exact, largest first, with their share", () => {
    const stats = createTrafficStats();
    for (let i = 0; i < 6; i++) record(stats, "203.0.113.7", 200, T0 + i);
    for (let i = 0; i < 3; i++) record(stats, "2001:db8:1:2::1", 200, T0 + i);
    record(stats, "198.51.100.1", 200, T0);
    const { hot } = trafficSnapshot(stats, T0 + 10);
    expect(hot.since).toBe(T0);
    expect(hot.requests).toBe(10);
    expect(hot.keys.map(({ key, count, overestimate, share }) => ({ key, count, overestimate, share }))).toEqual([
      { key: "203.0.113.7/32", count: 6, overestimate: 0, share: 0.6 },
      { key: "2001:db8:1:2::/64", count: 3, overestimate: 0, share: 0.3 },
      { key: "198.51.100.1/32", count: 1, overestimate: 0, share: 0.1 },
    ]);
    expect(hot.keys[0]!.hash).toBe(xxh32(clientKey("203.0.113.7").bytes));
  });

  test("every textual form of an address, and every address of one /64, is one key", () => {
    const stats = createTrafficStats();
    for (const ip of ["2001:db8::1", "2001:DB8:0:0:0:0:0:1", "2001:0db8::0001", "2001:db8::ffff:1", "2001:db8::42"])
      record(stats, ip, 200, T0);
    for (const ip of ["192.0.2.1", "::ffff:192.0.2.1"]) record(stats, ip, 200, T0);
    expect(trafficSnapshot(stats, T0).hot.keys.map((k) => [k.key, k.count])).toEqual([
      ["2001:db8::/64", 5],
      ["192.0.2.1/32", 2],
    ]);
  });

  test("requests without a client key count in the rates but NOT in the hot keys; a missing header is a key", () => {
    const stats = createTrafficStats();
    record(stats, null, 200, T0);
    recordTraffic(stats, clientKey(null), 1, 200, T0);
    const s = trafficSnapshot(stats, T0);
    expect(s.requests).toBe(2);
    expect(s.hot.keys.map((k) => k.key)).toEqual(["fallback:missing"]);
  });

  test("a key not held takes over the smallest counter and inherits its count as the overestimate", () => {
    const stats = createTrafficStats({ windowSeconds: 60, topK: 2 });
    for (const ip of ["192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3"]) record(stats, ip, 200, T0);
    expect(trafficSnapshot(stats, T0).hot.keys.map((k) => [k.key, k.count, k.overestimate])).toEqual([
      ["192.0.2.1/32", 3, 0],
      ["192.0.2.3/32", 2, 1],
    ]);
  });

  test("the list covers the current and the previous window, and forgets older traffic", () => {
    const stats = createTrafficStats({ windowSeconds: 10, topK: 5 });
    record(stats, "192.0.2.1", 200, T0);
    record(stats, "192.0.2.2", 200, T0 + 10_000); // a new generation
    const both = trafficSnapshot(stats, T0 + 15_000).hot;
    expect(both.since).toBe(T0);
    expect(both.keys.map((k) => k.key).sort()).toEqual(["192.0.2.1/32", "192.0.2.2/32"]);
    // Once the current generation is a window old, the previous one has left the span.
    expect(trafficSnapshot(stats, T0 + 20_000).hot.keys.map((k) => k.key)).toEqual(["192.0.2.2/32"]);
    expect(trafficSnapshot(stats, T0 + 30_000).hot.keys).toEqual([]);
    record(stats, "192.0.2.3", 200, T0 + 45_000); // after two silent windows: nothing carried over
    expect(trafficSnapshot(stats, T0 + 45_000).hot.keys.map((k) => k.key)).toEqual(["192.0.2.3/32"]);
  });

  test("space-saving bounds: each count is at least the true count and at most overestimate above it; every key above N/k is listed", () => {
    const k = 5;
    // Keys drawn from 30 addresses, skewed so that some are heavy; times over up to three windows.
    const stream = fc.array(
      fc.record({ ip: fc.integer({ min: 0, max: 29 }).map((i) => (i < 3 ? i : i * i) % 30), dt: fc.nat(1_500) }),
      { minLength: 1, maxLength: 400 },
    );
    fc.assert(
      fc.property(stream, (events) => {
        const stats = createTrafficStats({ windowSeconds: 10, topK: k });
        let now = T0;
        const timed = events.map(({ ip, dt }) => ({ ip: `198.18.0.${ip}`, at: (now += dt) }));
        for (const { ip, at } of timed) record(stats, ip, 200, at);
        const { hot } = trafficSnapshot(stats, now);
        const truth = new Map<string, number>();
        for (const { ip, at } of timed) if (at >= hot.since!) truth.set(`${ip}/32`, (truth.get(`${ip}/32`) ?? 0) + 1);
        expect(hot.requests).toBe([...truth.values()].reduce((a, b) => a + b, 0));
        for (const entry of hot.keys) {
          const real = truth.get(entry.key) ?? 0;
          expect(entry.count).toBeGreaterThanOrEqual(real);
          expect(entry.count - entry.overestimate).toBeLessThanOrEqual(real);
        }
        // The N/k guarantee holds per generation; within one window it is the classic one.
        if (timed[timed.length - 1]!.at - timed[0]!.at < 10_000) {
          for (const [key, count] of truth)
            if (count > hot.requests / k) expect(hot.keys.map((e) => e.key)).toContain(key);
        }
      }),
      { numRuns: 300 },
    );
  });
});
