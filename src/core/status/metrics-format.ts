/**
 * The Prometheus text exposition format, version 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats/):
 * what every Prometheus server, the OpenTelemetry collector, Grafana Agent / Alloy and VictoriaMetrics scrape. Pure:
 * families in, text out.
 *
 * Names are checked rather than trusted: a misspelt name would only show as a series nobody finds, and a duplicate
 * series would be kept by one scraper and refused by another, so both are errors here, caught by the unit tests.
 */

/** The Content-Type of the format, as Prometheus' own client libraries send it. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The two types this balancer exposes (no histogram or summary: it keeps no distributions). */
export type MetricType = "counter" | "gauge";

/** One series of a family: its labels (in the order written) and its value. */
export interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: one HELP and TYPE line, then its samples. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

// prometheus.io/docs/concepts/data_model/#metric-names-and-labels. Colons are for recording rules, not exporters;
// label names starting with "__" are reserved for Prometheus' own use.
const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The exposition of `families`, in the order given; throws on an invalid or duplicate name or series. */
export function formatMetrics(families: readonly MetricFamily[]): string {
  const names = new Set<string>();
  const lines: string[] = [];
  for (const family of families) {
    checkFamily(family, names);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    const series = new Set<string>();
    for (const sample of family.samples) {
      const labels = formatLabels(family.name, sample.labels ?? {});
      if (series.has(labels)) throw new Error(`metric ${family.name}: duplicate series ${labels || "{}"}`);
      series.add(labels);
      if (family.type === "counter" && !(sample.value >= 0))
        throw new Error(`metric ${family.name}: a counter cannot be ${sample.value}`);
      lines.push(`${family.name}${labels} ${formatValue(sample.value)}`);
    }
  }
  // The format ends every line, the last one included, with a line feed.
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

function checkFamily(family: MetricFamily, seen: Set<string>): void {
  const { name } = family;
  if (!METRIC_NAME.test(name)) throw new Error(`metric name ${JSON.stringify(name)} is not valid`);
  if (seen.has(name)) throw new Error(`metric ${name} appears twice`);
  seen.add(name);
  // Prometheus' naming conventions: a counter's name ends in _total, and nothing else's does.
  if ((family.type === "counter") !== name.endsWith("_total"))
    throw new Error(`metric ${name}: only a counter's name ends in _total`);
}

function formatLabels(metric: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels);
  if (pairs.length === 0) return "";
  for (const [name] of pairs) {
    if (!LABEL_NAME.test(name) || name.startsWith("__"))
      throw new Error(`metric ${metric}: label name ${JSON.stringify(name)} is not valid`);
  }
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
}

/** A label value as the format quotes it: backslash, double quote and line feed escaped. */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`));
}

/** HELP text: backslash and line feed escaped (a double quote needs none there). */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (ch) => (ch === "\n" ? "\\n" : "\\\\"));
}

/** A value as Go's strconv.ParseFloat reads it (what Prometheus uses): special values spelt its way. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  // JavaScript's shortest round-trip form ("0.1", "1e+21", "5e-7") is one ParseFloat reads exactly.
  return String(value);
}
