// The edge-wide view's metrics, parsed by a real Prometheus text-format parser.
import { describe, expect, test } from "vitest";
import { edgeMetrics, type EdgeFigures } from "../../../src/core/status/edge-metrics.ts";
import { formatMetrics } from "../../../src/core/status/metrics-format.ts";
import { parseScrape, valueOf } from "../../prometheus.ts";

const EDGE: EdgeFigures = {
  coveredSeconds: 42.5,
  reports: 12,
  origins: [
    { id: "o1", requestsPerSecond: 120.5, errorsPerSecond: 0.25, bound: 150 },
    { id: "o2", requestsPerSecond: 80, errorsPerSecond: 0, bound: null },
  ],
  placements: { moved: 1, split: 2, manual: 0 },
  withinBound: true,
};

describe("edge-wide metrics", () => {
  test("per-origin rates and bound, the window and the placements by kind", () => {
    const scrape = parseScrape(formatMetrics(edgeMetrics(EDGE)));
    expect(valueOf(scrape, "lb_edge_requests_per_second", { origin: "o1" })).toBe(120.5);
    expect(valueOf(scrape, "lb_edge_errors_per_second", { origin: "o1" })).toBe(0.25);
    expect(valueOf(scrape, "lb_edge_load_bound_requests_per_second", { origin: "o1" })).toBe(150);
    // No bound yet for o2: no series rather than a made-up 0.
    expect(scrape.get("lb_edge_load_bound_requests_per_second")!.series).toHaveLength(1);
    expect(valueOf(scrape, "lb_edge_window_seconds", {})).toBe(42.5);
    expect(valueOf(scrape, "lb_placements", { kind: "split" })).toBe(2);
    expect(valueOf(scrape, "lb_edge_within_bound", {})).toBe(1);
  });

  test("no view (the object did not answer): no edge series at all", () => {
    expect(edgeMetrics(null)).toEqual([]);
  });

  test("no client key is ever a label: every edge series is labelled by origin or by kind only", () => {
    // EdgeFigures carries no keys, so a key could only reach a label through a new label name.
    const scrape = parseScrape(formatMetrics(edgeMetrics(EDGE)));
    const names = new Set([...scrape.values()].flatMap((f) => f.series.flatMap((s) => Object.keys(s.labels))));
    expect([...names].sort()).toEqual(["kind", "origin"]);
  });
});
