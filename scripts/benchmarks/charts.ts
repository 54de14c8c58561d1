/** The SVG charts of BENCHMARKS.md, drawn from the parts' results. */
import fs from "node:fs";
import path from "node:path";
import type { WorkerThroughputResult } from "../bench-worker/result.ts";
import { barChart, type BarChart } from "../lib/svg.ts";
import type { ProxyQualityResult } from "../proxy-quality/result.ts";
import type { RingQualityResult } from "../ring-quality/result.ts";
import type { ScaleModelResult } from "../scale-model/result.ts";
import type { Outcome } from "./run-part.ts";

/** A chart written, under the part it illustrates. */
export interface Chart {
  readonly file: string;
  readonly title: string;
  readonly part: string;
}

/** Peak/mean and the removal's moved and ideal shares (percent) per scheme and origin count. */
function ringFigures(ring: RingQualityResult) {
  const peaks = new Map<string, Map<number, number>>();
  const removal = new Map<string, Map<number, { moved: number; ideal: number }>>();
  const of = <T>(map: Map<string, Map<number, T>>, scheme: string) => {
    if (!map.has(scheme)) map.set(scheme, new Map());
    return map.get(scheme)!;
  };
  for (const r of ring.results) {
    of(peaks, r.scheme).set(r.n, r.peak);
    of(removal, r.scheme).set(r.n, { moved: r.removal.moved * 100, ideal: r.removal.ideal * 100 });
  }
  return { peaks, removal };
}

/** Draws every chart whose part has a result; notes why a chart with no figures is missing. */
export function drawCharts(outcomes: readonly Outcome[], chartsDir: string): { charts: Chart[]; notes: string[] } {
  const charts: Chart[] = [];
  const notes: string[] = [];
  const data = (id: string): unknown => outcomes.find((o) => o.part.id === id)?.data ?? null;
  const write = (file: string, part: string, chart: BarChart) => {
    fs.mkdirSync(chartsDir, { recursive: true });
    fs.writeFileSync(path.join(chartsDir, file), barChart(chart));
    charts.push({ file, title: chart.title, part });
  };
  const n = (v: number) => `N = ${v.toLocaleString("en")}`;

  const ring = data("ring-quality") as RingQualityResult | null;
  if (ring !== null) {
    const { peaks, removal } = ringFigures(ring);
    const sizes = [...new Set([...peaks.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
    if (peaks.size > 0) {
      write("ring-peak-mean.svg", "ring-quality", {
        title: "Peak/mean load by scheme and origin count",
        subtitle: "simulation, one seeded client set; 1 = perfect balance; dashed: issue-5 goals",
        groups: sizes.map(n),
        series: [...peaks].map(([name, m]) => ({ name, values: sizes.map((s) => m.get(s) ?? null) })),
        yLabel: "peak / mean",
        xLabel: "origins",
        yMin: 1,
        lines: [
          { value: 1.02, label: "goal ≤ 1.02", group: sizes.indexOf(10) },
          { value: 1.04, label: "goal ≤ 1.04", group: sizes.indexOf(100) },
        ].filter((l) => l.group >= 0),
        format: (v) => v.toFixed(3),
      });
    } else notes.push("ring-quality.json holds no peak/mean per scheme and N: its charts are not drawn.");
    if (removal.size > 0) {
      const rSizes = [...new Set([...removal.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
      write("ring-removal.svg", "ring-quality", {
        title: "Clients moved when one origin is removed, against the ideal",
        subtitle: "moved share ÷ the removed origin's own share; 1 = ideal (only its clients move)",
        groups: rSizes.map(n),
        series: [...removal].map(([name, m]) => ({
          name,
          values: rSizes.map((s) => (m.has(s) ? m.get(s)!.moved / m.get(s)!.ideal : null)),
        })),
        yLabel: "moved ÷ ideal",
        xLabel: "origins",
        yMin: 1,
        format: (v) => `×${v.toFixed(3)}`,
      });
    }
  }

  const proxies = data("proxy-quality") as ProxyQualityResult | null;
  if (proxies !== null) {
    const peaks = new Map(proxies.proxies.map((p) => [p.name, p.peakMean]));
    if (peaks.size > 0) {
      write("proxies-peak-mean.svg", "proxy-quality", {
        title: "Peak/mean load through the real proxies (10 origins)",
        subtitle: `${proxies.clients.toLocaleString("en")} clients through each proxy; 1 = perfect balance`,
        groups: [...peaks.keys()],
        series: [{ name: "peak / mean", values: [...peaks.values()] }],
        yLabel: "peak / mean",
        yMin: 1,
        lines: [{ value: 1.02, label: "goal at 1M clients: ≤ 1.02" }],
        format: (v) => v.toFixed(3),
        height: 460,
      });
    } else notes.push("proxy-quality.json holds no peak/mean per proxy: its chart is not drawn.");
  }

  const results = (data("worker-throughput") as WorkerThroughputResult | null)?.results;
  if (results?.bare && results.current) {
    // The balancer's pair (and --baseline's balancer); the control pair is in the report's ratio table.
    const names = ["bare", "current", "baseline"].filter((k) => results[k] !== undefined);
    const label = (name: string) => (name === "current" ? "balancer" : name === "bare" ? "bare worker" : name);
    write("worker-rps.svg", "worker-throughput", {
      title: "Requests per second in workerd: balancer vs bare worker",
      subtitle: "same runtime, origins and load generator; higher is better",
      groups: names.map(label),
      series: [{ name: "req/s", values: names.map((k) => results[k]!.rps) }],
      yLabel: "requests / s",
      lines: [{ value: results.bare.rps * 0.9, label: "goal: ≥ 0.9 × bare" }],
      format: (v) => Math.round(v).toLocaleString("en"),
    });
    write("worker-latency.svg", "worker-throughput", {
      title: "Latency in workerd: balancer vs bare worker",
      subtitle: "p50 and p99 under the same load; lower is better",
      groups: ["p50", "p99"],
      series: names.map((k) => ({ name: label(k), values: [results[k]!.p50, results[k]!.p99] })),
      yLabel: "milliseconds",
      lines: [{ value: results.bare.p99 * 1.1, label: "goal: p99 ≤ 1.1 × bare" }],
      format: (v) => v.toFixed(1),
    });
  }

  const scale = data("scale-model") as ScaleModelResult | null;
  if (scale !== null) {
    const ttl = scale.inputs.settings.ttlMs;
    const rows = scale.cases.filter((c) => c.ttlS * 1000 === ttl);
    write("scale-do-calls.svg", "scale-model", {
      title: "Durable Object calls/s: 300 locations, 1,000 origins, 1M req/s",
      subtitle: `model, SNAPSHOT_TTL_MS ${ttl / 1000} s (default); dashed: one object's ~1,000/s soft limit`,
      groups: rows.map((c) => `${c.isolatesPerLocation} per location`),
      series: [
        { name: "steady state", values: rows.map((c) => c.steady) },
        { name: "busiest second after an origin dies", values: rows.map((c) => c.peak) },
      ],
      yLabel: "calls / s",
      xLabel: "isolates per location (not published by Cloudflare)",
      lines: [{ value: 1000, label: "soft limit ≈ 1,000/s" }],
      format: (v) => Math.round(v).toLocaleString("en"),
    });
  }
  return { charts, notes };
}
