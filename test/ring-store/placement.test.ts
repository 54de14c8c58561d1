// The ring object's side of load-aware placement: traffic reports riding on getUpdate, merged
// into one edge-wide view from many isolates and locations, and the plans made from it.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { xxh32 } from "../../src/core/hash.ts";
import { clientKey } from "../../src/core/key/client-key.ts";
import { fullWalk } from "../../src/core/placement/pool-load.ts";
import { buildRoutingTable } from "../../src/core/routing/routing-table.ts";
import { combineReports } from "../../src/core/traffic/combine-reports.ts";
import type { KeyCount, TrafficReport } from "../../src/core/traffic/traffic-report.ts";
import type { RingStore } from "../../src/ring-store/ring-store.ts";

const T0 = 1_800_000_000_000;

const objectNamed = (name: string) => env.RING.get(env.RING.idFromName(name));

function report(
  source: string,
  origins: Record<string, number>,
  keys: KeyCount[] = [],
  spanMs = 10_000,
): TrafficReport {
  const entries = Object.entries(origins).map(([id, requests]) => ({
    id,
    requests,
    errors: Math.floor(requests / 100),
  }));
  return {
    version: 1,
    source,
    spanMs,
    requests: entries.reduce((sum, e) => sum + e.requests, 0),
    origins: entries,
    keys,
  };
}

function keyOf(ip: string): { key: string; hash: number } {
  const k = clientKey(ip);
  return { key: `${ip}/32`, hash: xxh32(k.bytes) };
}

describe("edge-wide traffic view", () => {
  test("counts from several isolates and locations, riding on getUpdate, merge into one view", async () => {
    await runInDurableObject(objectNamed("placement-merge"), async (instance: RingStore) => {
      instance.now = () => T0;
      const hot = keyOf("203.0.113.10");
      const a = report("iso-a", { alpha: 100, bravo: 50 }, [{ ...hot, count: 40, overestimate: 0, userBits: 0b1 }]);
      const b = report("iso-b", { alpha: 10, charlie: 30 }, [{ ...hot, count: 5, overestimate: 0, userBits: 0b10 }]);
      // A location's roll-up of two more isolates (core/traffic/combine-reports.ts).
      const location = combineReports(
        [report("iso-c", { bravo: 20 }), report("iso-d", { charlie: 70 }, [{ ...hot, count: 15, overestimate: 0 }])],
        "fra",
      )!;
      for (const traffic of [a, b, location]) {
        const update = await instance.getUpdate(null, null, traffic);
        expect(update.origins).not.toBeNull();
      }
      // A malformed report is refused whole and counts nothing.
      await instance.getUpdate(null, null, { ...a, version: 2 });
      await instance.getUpdate(null, null, { ...a, origins: [{ id: "alpha", requests: -1, errors: 0 }] });
      const status = (await instance.getTraffic())!;
      expect(status.view.reports).toBe(3);
      expect(Object.fromEntries(status.view.origins.map((o) => [o.id, o.requests]))).toEqual({
        alpha: 110,
        bravo: 70,
        charlie: 100,
      });
      expect(status.view.origins.find((o) => o.id === "alpha")!.errors).toBe(1 + 0);
      const key = status.view.keys.find((k) => k.key === hot.key)!;
      expect(key.count).toBe(60);
      // The users bitmaps OR together: two users seen, by two isolates.
      expect(key.users).toBeGreaterThan(1.5);
      // No call per request: one getUpdate per report, nothing else.
      expect((await instance.callCounts()).getUpdate).toBe(5);
    });
  });

  test("a key over the bound is placed once, shipped in the update with an epoch bump, and held", async () => {
    await runInDurableObject(objectNamed("placement-plan"), async (instance: RingStore) => {
      let now = T0;
      instance.now = () => now;
      const snapshot = await instance.getSnapshot();
      const ring = buildRoutingTable(snapshot, 100).pools[0]!.ring;
      const hot = keyOf("198.51.100.99");
      const walk = fullWalk(ring, hash(hot)).map((m) => ring.ids[m]!);
      const primary = walk[0]!;
      // Every origin 1,000 requests in 10 s; the hot NAT address (many users) adds 3,000 on its
      // primary: mean 2,000, bound 2,500, and the key alone does not fit on any other origin.
      const origins = Object.fromEntries(ring.ids.map((id) => [id, id === primary ? 4_000 : 1_000]));
      const traffic = report("iso-a", origins, [{ ...hot, count: 3_000, overestimate: 0, userBits: 0xffff_ffff }]);
      // No plan from a view covering less than a third of a window (a restart's first seconds).
      now = T0 - 40_000;
      expect((await instance.getUpdate(snapshot.epoch, snapshot.layoutEpoch, traffic)).epoch).toBe(snapshot.epoch);
      now = T0;
      const first = await instance.getUpdate(snapshot.epoch, snapshot.layoutEpoch, traffic);
      expect(first.epoch).toBe(snapshot.epoch + 1);
      const [placement] = first.placements!;
      expect(placement).toMatchObject({ key: hot.key, hash: hot.hash, manual: false, decidedAt: T0 });
      // Split along the key's own walk, its primary first (users without a cookie stay there).
      expect(placement!.targets.length).toBeGreaterThan(1);
      expect(placement!.targets.map((t) => t.origin)).toEqual(walk.slice(0, placement!.targets.length));
      const status = (await instance.getTraffic())!;
      expect(Object.values(status.pools)[0]!.withinBound).toBe(true);

      // Within PLACEMENT_INTERVAL_MS no plan runs; after it, the same traffic keeps the placement.
      now = T0 + 1_000;
      expect((await instance.getUpdate(first.epoch, first.layoutEpoch, traffic)).epoch).toBe(first.epoch);
      now = T0 + 11_000;
      const later = await instance.getUpdate(first.epoch, first.layoutEpoch, traffic);
      expect(later.epoch).toBe(first.epoch);
      expect((await instance.getSnapshot()).placements).toEqual([placement]);
    });
  });
});

const hash = (k: { hash: number }) => k.hash;
