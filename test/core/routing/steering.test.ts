import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { distanceKm, orderPools } from "../../../src/core/routing/steering.ts";
import { parseRegions } from "../../../src/core/config/regions.ts";
import { type Region } from "../../../src/core/model.ts";

const THREE = [
  { id: "us", latitude: 39.0, longitude: -77.5, countries: ["CA"], continents: ["NA", "SA"] },
  { id: "eu", latitude: 50.1, longitude: 8.7, continents: ["EU", "AF"] },
  { id: "ap", latitude: 35.7, longitude: 139.7, countries: ["AU"] },
];
const regions = (() => {
  const parsed = parseRegions(THREE);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
})();

describe("great-circle distance", () => {
  test("matches the published haversine example and known city distances", () => {
    // Sinnott's example, Nashville BNA → Los Angeles LAX: 2,886 km on a 6,371 km sphere.
    expect(distanceKm(36.12, -86.67, 33.94, -118.4)).toBeCloseTo(2886.4, 0);
    // London → Paris ≈ 343.5 km; Frankfurt → Tokyo ≈ 9,350 km.
    expect(Math.abs(distanceKm(51.5074, -0.1278, 48.8566, 2.3522) - 343.5)).toBeLessThan(1.5);
    expect(Math.abs(distanceKm(50.1, 8.7, 35.7, 139.7) - 9350)).toBeLessThan(60);
  });

  test("is symmetric, zero at one point, and at most half the circumference", () => {
    const lat = fc.double({ min: -90, max: 90, noNaN: true });
    const lon = fc.double({ min: -180, max: 180, noNaN: true });
    fc.assert(
      fc.property(lat, lon, lat, lon, (a, b, c, d) => {
        expect(distanceKm(a, b, c, d)).toBeCloseTo(distanceKm(c, d, a, b), 6);
        expect(distanceKm(a, b, a, b)).toBe(0);
        expect(distanceKm(a, b, c, d)).toBeLessThanOrEqual(Math.PI * 6371.0088 + 1e-6);
      }),
      { numRuns: 500, seed: 20261122 },
    );
    expect(distanceKm(0, 0, 0, 180)).toBeCloseTo(Math.PI * 6371.0088, 6);
  });
});

describe("REGIONS parsing", () => {
  test("accepts TOML tables or JSON, sorted by id", () => {
    const fromJson = parseRegions(JSON.stringify(THREE));
    expect(fromJson.ok && fromJson.value.map((r) => r.id)).toEqual(["ap", "eu", "us"]);
    expect(parseRegions(undefined)).toEqual({ ok: true, value: [] });
  });

  test.each([
    [[{ id: "EU", latitude: 1, longitude: 1 }], "REGIONS[0].id"],
    [[{ id: "eu", latitude: 91, longitude: 1 }], "REGIONS[0].latitude"],
    [[{ id: "eu", latitude: 1, longitude: "8" }], "REGIONS[0].longitude"],
    [[{ id: "eu", latitude: 1, longitude: 1, countries: ["de"] }], "REGIONS[0].countries"],
    [[{ id: "eu", latitude: 1, longitude: 1, continents: ["XX"] }], "REGIONS[0].continents"],
    [[{ id: "eu", latitude: 1, longitude: 1, pool: "x" }], "REGIONS[0].pool"],
    [
      [
        { id: "eu", latitude: 1, longitude: 1 },
        { id: "eu", latitude: 2, longitude: 2 },
      ],
      "REGIONS[1].id",
    ],
    [
      [
        { id: "eu", latitude: 1, longitude: 1, countries: ["DE"] },
        { id: "de", latitude: 2, longitude: 2, countries: ["DE"] },
      ],
      "REGIONS[1]",
    ],
    ["[not json", "REGIONS"],
  ])("%j is refused, naming %s", (raw, field) => {
    const parsed = parseRegions(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.map((e) => e.field)).toContain(field);
  });
});

describe("pool order", () => {
  const order = (where: Parameters<typeof orderPools>[1], fallback: string | null = null) =>
    orderPools(regions, where, fallback);

  test("an explicit country mapping wins over continent and distance", () => {
    // Australia is in Oceania and far from Tokyo, but mapped to ap.
    expect(order({ country: "AU", continent: "OC", latitude: "-33.9", longitude: "151.2" })).toEqual({
      order: ["ap", "us", "eu"],
      reason: "country",
    });
    // Canada is mapped to us although its continent is also NA: the country rule reports itself.
    expect(order({ country: "CA", continent: "NA" }).reason).toBe("country");
  });

  test("then the continent mapping, then the nearest region by distance", () => {
    expect(order({ country: "DE", continent: "EU", latitude: "52.5", longitude: "13.4" })).toMatchObject({
      order: ["eu", "us", "ap"],
      reason: "continent",
    });
    // Japan: no mapping, so the nearest region; then Frankfurt (9,350 km) before Virginia (10,900 km).
    expect(order({ country: "JP", continent: "AS", latitude: "35.7", longitude: "139.7" })).toEqual({
      order: ["ap", "eu", "us"],
      reason: "nearest",
    });
  });

  test("the fallback order is by distance from the client, not the home region", () => {
    // A client in Iceland mapped (by continent EU) to eu: us is nearer to it than ap.
    expect(order({ continent: "EU", latitude: "64.1", longitude: "-21.9" }).order).toEqual(["eu", "us", "ap"]);
  });

  test("without mapping or coordinates: DEFAULT_REGION, else the first by id; fallbacks by distance from it", () => {
    expect(order({}, "us")).toEqual({ order: ["us", "eu", "ap"], reason: "default" });
    // From Tokyo, Frankfurt (9,350 km) is nearer than Virginia (10,900 km).
    expect(order({ country: "T1", latitude: "", longitude: "x" })).toMatchObject({ order: ["ap", "eu", "us"] });
    expect(order({}, "nowhere").order[0]).toBe("ap");
  });

  test("every order holds each region exactly once, for any location", () => {
    fc.assert(
      fc.property(
        fc.record({
          country: fc.option(fc.constantFrom("DE", "US", "JP", "AU", "CA", "BR", "ZZ"), { nil: undefined }),
          continent: fc.option(fc.constantFrom("EU", "NA", "AS", "OC", "SA", "AF", "AN"), { nil: undefined }),
          latitude: fc.option(fc.double({ min: -90, max: 90, noNaN: true }).map(String), { nil: undefined }),
          longitude: fc.option(fc.double({ min: -180, max: 180, noNaN: true }).map(String), { nil: undefined }),
        }),
        (where) => {
          const { order: pools } = orderPools(regions as Region[], where, null);
          expect([...pools].sort()).toEqual(["ap", "eu", "us"]);
        },
      ),
      { numRuns: 500, seed: 20261122 },
    );
  });
});
