import { describe, expect, test } from "vitest";
import { parsePlacementSettings } from "../../../src/core/placement/placement-settings.ts";

describe("placement settings", () => {
  test("defaults when nothing is set", () => {
    expect(parsePlacementSettings({})).toEqual({
      ok: true,
      value: {
        loadBoundFactor: 1.25,
        placementIntervalMs: 10_000,
        trafficWindowMs: 60_000,
        hotKeysMax: 64,
        affinityCookieTtlS: 86_400,
        affinityCookieName: "lb_affinity",
      },
    });
  });

  test("strings and numbers as wrangler passes them; 0 turns the bound off", () => {
    const parsed = parsePlacementSettings({
      LOAD_BOUND_FACTOR: "0",
      PLACEMENT_INTERVAL_MS: 5_000,
      TRAFFIC_WINDOW_MS: "30000",
      HOT_KEYS_MAX: "128",
      AFFINITY_COOKIE_TTL_S: "3600",
      AFFINITY_COOKIE_NAME: "__Host-pin",
    });
    expect(parsed).toMatchObject({
      ok: true,
      value: { loadBoundFactor: 0, placementIntervalMs: 5_000, trafficWindowMs: 30_000, hotKeysMax: 128 },
    });
    expect(parsePlacementSettings({ LOAD_BOUND_FACTOR: 1.5 })).toMatchObject({
      ok: true,
      value: { loadBoundFactor: 1.5 },
    });
  });

  test.each([
    ["LOAD_BOUND_FACTOR", "1.01"],
    ["LOAD_BOUND_FACTOR", "11"],
    ["LOAD_BOUND_FACTOR", "-1"],
    ["LOAD_BOUND_FACTOR", "1.2x"],
    ["LOAD_BOUND_FACTOR", Number.NaN],
    ["PLACEMENT_INTERVAL_MS", "999"],
    ["PLACEMENT_INTERVAL_MS", "1.5e3"],
    ["TRAFFIC_WINDOW_MS", "5999"],
    ["HOT_KEYS_MAX", "0"],
    ["HOT_KEYS_MAX", "257"],
    ["AFFINITY_COOKIE_TTL_S", "59"],
    ["AFFINITY_COOKIE_NAME", "a b"],
    ["AFFINITY_COOKIE_NAME", "x;y"],
    ["AFFINITY_COOKIE_NAME", "x".repeat(65)],
    ["AFFINITY_COOKIE_NAME", 7],
  ])("%s = %j is refused, naming the variable", (name, value) => {
    const parsed = parsePlacementSettings({ [name]: value });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.map((e) => e.field)).toEqual([name]);
  });

  test("a window shorter than the interval is refused; every error is reported at once", () => {
    const parsed = parsePlacementSettings({ PLACEMENT_INTERVAL_MS: "60000", TRAFFIC_WINDOW_MS: "10000" });
    expect(parsed).toMatchObject({ ok: false, errors: [{ field: "TRAFFIC_WINDOW_MS" }] });
    const many = parsePlacementSettings({ LOAD_BOUND_FACTOR: "x", HOT_KEYS_MAX: "x", AFFINITY_COOKIE_NAME: "a b" });
    expect(many.ok ? [] : many.errors.map((e) => e.field)).toEqual([
      "LOAD_BOUND_FACTOR",
      "HOT_KEYS_MAX",
      "AFFINITY_COOKIE_NAME",
    ]);
  });
});
