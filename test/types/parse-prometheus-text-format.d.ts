// The package ships no types; this is the shape its README documents (prom2json's), for the families it parses
// here (counters and gauges: values only, no buckets or quantiles).
declare module "parse-prometheus-text-format" {
  interface ParsedSample {
    readonly value: string;
    readonly labels?: Record<string, string>;
    readonly timestamp_ms?: string;
  }
  interface ParsedFamily {
    readonly name: string;
    readonly help: string;
    /** Upper case: "COUNTER", "GAUGE", "UNTYPED", ... */
    readonly type: string;
    readonly metrics: readonly ParsedSample[];
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
