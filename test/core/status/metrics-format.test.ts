// The text exposition writer, read back with a real parser of the format (test/prometheus.ts), never by regex.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  formatMetrics,
  formatValue,
  METRICS_CONTENT_TYPE,
  type MetricFamily,
} from "../../../src/core/status/metrics-format.ts";
import { parseScrape, valueOf } from "../../prometheus.ts";

const gauge = (name: string, samples: MetricFamily["samples"], help = "A gauge."): MetricFamily => ({
  name,
  help,
  type: "gauge",
  samples,
});

describe("the text exposition format", () => {
  test("counters and gauges come back with their HELP, TYPE, labels and values", () => {
    const text = formatMetrics([
      {
        name: "lb_requests_total",
        help: "Requests served.",
        type: "counter",
        samples: [
          { labels: { origin: "alpha", pool: "eu" }, value: 1027 },
          { labels: { origin: "bravo", pool: "" }, value: 3 },
        ],
      },
      gauge("lb_latency_seconds", [{ value: 0.012 }], "Latency of the last probe."),
    ]);
    const parsed = parseScrape(text);
    expect([...parsed.keys()]).toEqual(["lb_requests_total", "lb_latency_seconds"]);
    expect(parsed.get("lb_requests_total")).toEqual({
      help: "Requests served.",
      type: "counter",
      series: [
        { labels: { origin: "alpha", pool: "eu" }, value: 1027 },
        { labels: { origin: "bravo", pool: "" }, value: 3 },
      ],
    });
    expect(parsed.get("lb_latency_seconds")).toEqual({
      help: "Latency of the last probe.",
      type: "gauge",
      series: [{ labels: {}, value: 0.012 }],
    });
    // Every line ends with a line feed, the last one too.
    expect(text.endsWith("\n")).toBe(true);
    expect(text.split("\n").at(-1)).toBe("");
  });

  test("the Content-Type is the one of version 0.0.4", () => {
    expect(METRICS_CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  test("label values with backslashes, quotes, line feeds and any Unicode survive the round trip", () => {
    const tricky = ["C:\\DIR\\FILE.TXT", 'say "hi"', "two\nlines", "\\n is not a line feed", "ünïcødé ☃ 𝄞", "} ,=", ""];
    const text = formatMetrics([
      gauge(
        "lb_x",
        tricky.map((v, i) => ({ labels: { v, i: String(i) }, value: i })),
      ),
    ]);
    const series = parseScrape(text).get("lb_x")!.series;
    expect(series.map((s) => s.labels.v)).toEqual(tricky);
    // One sample line per series: the line feed inside a value is escaped, not written.
    expect(text.split("\n").filter((line) => line.startsWith("lb_x"))).toHaveLength(tricky.length);
  });

  test("any label value round-trips (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (v) => {
        const parsed = parseScrape(formatMetrics([gauge("lb_x", [{ labels: { v }, value: 1 }])]));
        expect(parsed.get("lb_x")!.series[0]!.labels.v).toBe(v);
      }),
    );
  });

  test("HELP text escapes backslashes and line feeds", () => {
    const help = "Share (0–1) of C:\\keys\nsecond line";
    expect(parseScrape(formatMetrics([gauge("lb_x", [], help)])).get("lb_x")!.help).toBe(help);
  });

  test("special values are spelt as Go's ParseFloat reads them", () => {
    expect([NaN, Infinity, -Infinity, 1e21, 5e-7, -0, 0.1].map(formatValue)).toEqual([
      "NaN",
      "+Inf",
      "-Inf",
      "1e+21",
      "5e-7",
      "0",
      "0.1",
    ]);
    const values = [Infinity, -Infinity, 1e21, 5e-7, 123456789.125];
    const parsed = parseScrape(
      formatMetrics([
        gauge(
          "lb_x",
          values.map((value, i) => ({ labels: { i: `${i}` }, value })),
        ),
      ]),
    );
    expect(parsed.get("lb_x")!.series.map((s) => s.value)).toEqual(values);
    expect(valueOf(parseScrape(formatMetrics([gauge("lb_nan", [{ value: NaN }])])), "lb_nan")).toBeNaN();
  });

  test("a family without samples still has its HELP and TYPE; no family at all is an empty body", () => {
    const parsed = parseScrape(formatMetrics([gauge("lb_empty", []), gauge("lb_one", [{ value: 1 }])]));
    expect(parsed.get("lb_empty")).toEqual({ help: "A gauge.", type: "gauge", series: [] });
    expect(valueOf(parsed, "lb_one")).toBe(1);
    expect(formatMetrics([])).toBe("");
  });

  test.each([
    ["an invalid metric name", [gauge("lb-x", [])], /not valid/],
    ["a metric name with a colon (recording rules only)", [gauge("lb:x", [])], /not valid/],
    ["an invalid label name", [gauge("lb_x", [{ labels: { "pool-id": "a" }, value: 1 }])], /label name/],
    ["a reserved label name", [gauge("lb_x", [{ labels: { __name__: "a" }, value: 1 }])], /label name/],
    ["a family twice", [gauge("lb_x", []), gauge("lb_x", [])], /appears twice/],
    [
      "a series twice",
      [
        gauge("lb_x", [
          { labels: { a: "1" }, value: 1 },
          { labels: { a: "1" }, value: 2 },
        ]),
      ],
      /duplicate/,
    ],
    ["a counter without _total", [{ name: "lb_x", help: "", type: "counter", samples: [] }], /_total/],
    ["a gauge with _total", [gauge("lb_x_total", [])], /_total/],
    ["a negative counter", [{ name: "lb_x_total", help: "", type: "counter", samples: [{ value: -1 }] }], /counter/],
    ["a NaN counter", [{ name: "lb_x_total", help: "", type: "counter", samples: [{ value: NaN }] }], /counter/],
  ] as [string, MetricFamily[], RegExp][])("refuses %s", (_, families, error) => {
    expect(() => formatMetrics(families)).toThrow(error);
  });
});
