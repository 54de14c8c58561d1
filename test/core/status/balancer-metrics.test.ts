// The balancer's metric families: names and types by Prometheus' conventions, base units, one series per
// origin / state / call, and no series for a figure nobody has; read back with a real parser (test/prometheus.ts).
import { describe, expect, test } from "vitest";
import { balancerMetrics, type MetricsInput, type OriginFigures } from "../../../src/core/status/balancer-metrics.ts";
import { formatMetrics } from "../../../src/core/status/metrics-format.ts";
import { parseScrape, valueOf } from "../../prometheus.ts";

const T = 1_800_000_000_000;

const probed: OriginFigures = {
  id: "alpha",
  pool: "eu",
  weight: 2,
  state: "draining",
  health: "up",
  ejected: false,
  ejections: 1,
  passiveFailures: 3,
  latencyMs: 12,
  lastProbeAt: T - 1_500,
  slots: 40_000,
  share: 40_000 / 65_537,
  traffic: 0.25,
  serving: 0.3,
};

const fresh: OriginFigures = {
  ...probed,
  id: "bravo",
  pool: "",
  weight: 1,
  state: "active",
  health: "unknown",
  ejected: true,
  ejections: null,
  passiveFailures: null,
  latencyMs: null,
  lastProbeAt: null,
};

const input: MetricsInput = {
  epoch: 42,
  layoutEpoch: 7,
  panic: false,
  eligible: 2,
  pools: [
    { id: "eu", slots: 65_537, eligible: 1 },
    { id: "", slots: 65_537, eligible: 1 },
  ],
  origins: [probed, fresh],
  durableObjectUp: true,
  lastProbeRoundAt: T - 2_000,
  calls: { getUpdate: 10, report: 2, probeRound: 5 },
  isolate: {
    id: "0a1b2c3d",
    startedAt: T - 60_000,
    requests: 100,
    errors: 4,
    refreshes: 9,
    locationHits: 6,
    refreshFailing: false,
    snapshotAgeMs: 150,
    source: "durable-object",
  },
};

const scrape = (i: MetricsInput) => parseScrape(formatMetrics(balancerMetrics(i)));

describe("the balancer's metrics", () => {
  test("every family has a HELP and a type, an lb_ name, _total exactly on counters, and base units", () => {
    const families = scrape(input);
    expect(families.size).toBeGreaterThan(20);
    for (const [name, family] of families) {
      expect(name).toMatch(/^lb_[a-z_]+$/);
      expect(family.help.length, name).toBeGreaterThan(0);
      expect(["counter", "gauge"]).toContain(family.type);
      expect(name.endsWith("_total"), name).toBe(family.type === "counter");
      // Base units only: no milliseconds, no percent.
      expect(name).not.toMatch(/_(ms|milliseconds|percent)(_|$)/);
    }
  });

  test("every origin series carries origin and pool; every isolate series carries the isolate", () => {
    for (const [name, family] of scrape(input)) {
      for (const s of family.series) {
        if (name.startsWith("lb_origin_")) expect(Object.keys(s.labels).slice(0, 2), name).toEqual(["origin", "pool"]);
        if (name.startsWith("lb_isolate_")) expect(s.labels.isolate, name).toBe("0a1b2c3d");
      }
    }
  });

  test("state and health: one series per value, exactly one of them 1", () => {
    const families = scrape(input);
    for (const [name, label, values] of [
      ["lb_origin_state", "state", { alpha: "draining", bravo: "active" }],
      ["lb_origin_health", "health", { alpha: "up", bravo: "unknown" }],
    ] as const) {
      for (const [origin, expected] of Object.entries(values)) {
        const series = families.get(name)!.series.filter((s) => s.labels.origin === origin);
        expect(series).toHaveLength(3);
        expect(series.filter((s) => s.value === 1).map((s) => s.labels[label])).toEqual([expected]);
        expect(series.filter((s) => s.value === 0)).toHaveLength(2);
      }
    }
  });

  test("figures in base units: seconds, Unix seconds, ratios", () => {
    const f = scrape(input);
    const alpha = { origin: "alpha", pool: "eu" };
    expect(valueOf(f, "lb_origin_probe_latency_seconds", alpha)).toBe(0.012);
    expect(valueOf(f, "lb_origin_last_probe_timestamp_seconds", alpha)).toBe((T - 1_500) / 1000);
    expect(valueOf(f, "lb_last_probe_round_timestamp_seconds")).toBe((T - 2_000) / 1000);
    expect(valueOf(f, "lb_isolate_snapshot_age_seconds")).toBe(0.15);
    expect(valueOf(f, "lb_isolate_start_timestamp_seconds")).toBe((T - 60_000) / 1000);
    expect(valueOf(f, "lb_origin_key_space_ratio", alpha)).toBe(40_000 / 65_537);
    expect(valueOf(f, "lb_origin_slots", alpha)).toBe(40_000);
    expect(valueOf(f, "lb_pool_slots", { pool: "eu" })).toBe(65_537);
    expect(valueOf(f, "lb_origin_traffic_ratio", alpha)).toBe(0.25);
    expect(valueOf(f, "lb_origin_serving_ratio", alpha)).toBe(0.3);
    expect(valueOf(f, "lb_origin_ejection_streak", alpha)).toBe(1);
    expect(valueOf(f, "lb_origin_passive_failures", alpha)).toBe(3);
    expect(valueOf(f, "lb_origin_ejected", { origin: "bravo" })).toBe(1);
    expect(valueOf(f, "lb_origin_weight", { origin: "alpha" })).toBe(2);
    expect([valueOf(f, "lb_epoch"), valueOf(f, "lb_layout_epoch"), valueOf(f, "lb_eligible_origins")]).toEqual([
      42, 7, 2,
    ]);
    expect(valueOf(f, "lb_durable_object_calls_total", { method: "getUpdate" })).toBe(10);
    expect(valueOf(f, "lb_isolate_requests_total")).toBe(100);
    expect(valueOf(f, "lb_isolate_errors_total")).toBe(4);
    expect(valueOf(f, "lb_isolate_snapshot_refreshes_total")).toBe(9);
    expect(valueOf(f, "lb_isolate_location_cache_hits_total")).toBe(6);
    expect(valueOf(f, "lb_isolate_snapshot_source", { source: "durable-object" })).toBe(1);
    expect(valueOf(f, "lb_isolate_snapshot_source", { source: "bootstrap" })).toBe(0);
  });

  test("the catch-all pool is the empty pool label", () => {
    expect(valueOf(scrape(input), "lb_origin_slots", { origin: "bravo", pool: "" })).toBe(40_000);
  });

  test("a figure nobody has yet has no series, not a made-up value", () => {
    const f = scrape(input);
    for (const name of [
      "lb_origin_probe_latency_seconds",
      "lb_origin_last_probe_timestamp_seconds",
      "lb_origin_ejection_streak",
      "lb_origin_passive_failures",
    ]) {
      expect(
        f.get(name)!.series.map((s) => s.labels.origin),
        name,
      ).toEqual(["alpha"]);
    }
  });

  test("without the Durable Object: its series are gone, the family stays, and up says so", () => {
    const f = scrape({ ...input, durableObjectUp: false, calls: null, lastProbeRoundAt: null });
    expect(valueOf(f, "lb_durable_object_up")).toBe(0);
    expect(f.get("lb_durable_object_calls_total")!.series).toEqual([]);
    expect(f.get("lb_last_probe_round_timestamp_seconds")!.series).toEqual([]);
    expect(valueOf(scrape(input), "lb_durable_object_up")).toBe(1);
  });

  test("origin ids are label values, escaped whatever they hold", () => {
    const odd = { ...probed, id: 'a"b\\c\nd' };
    const f = scrape({ ...input, origins: [odd] });
    expect(valueOf(f, "lb_origin_weight", { origin: 'a"b\\c\nd' })).toBe(2);
  });
});
