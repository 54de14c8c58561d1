/// <reference path="./types/parse-prometheus-text-format.d.ts" />
// Reads a scrape the way a scraper does: with a real parser of the text format (an npm package), never a regex,
// so that an escaping or layout mistake shows as a parse error or a wrong value, not as a passing match.
import parsePrometheusTextFormat from "parse-prometheus-text-format";

/** One series as parsed: its labels and its value as a number. */
export interface ParsedSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One family as parsed. */
export interface ParsedFamily {
  readonly help: string;
  readonly type: string;
  readonly series: readonly ParsedSeries[];
}

/** The families of `text` by name; throws when the parser does, or when a family appears twice. */
export function parseScrape(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  for (const family of parsePrometheusTextFormat(text)) {
    // The parser starts a new entry whenever the name changes, so a family split in two shows here.
    if (families.has(family.name)) throw new Error(`family ${family.name} appears twice`);
    families.set(family.name, {
      help: family.help,
      type: family.type.toLowerCase(),
      series: family.metrics.map((m) => ({ labels: m.labels ?? {}, value: goFloat(m.value) })),
    });
  }
  return families;
}

/** The value of the one series of `name` whose labels include `labels`; throws unless exactly one matches. */
export function valueOf(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const family = families.get(name);
  if (family === undefined) throw new Error(`no family ${name}`);
  const found = family.series.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
  return found[0]!.value;
}

// The format's numbers are Go's ParseFloat's: "+Inf", "-Inf" and "NaN" are spelt its way.
function goFloat(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const value = Number(text);
  if (text.trim() === "" || Number.isNaN(value)) throw new Error(`not a sample value: ${JSON.stringify(text)}`);
  return value;
}
