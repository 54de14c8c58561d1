/** worker-throughput.md: req/s and latency per target, the Durable Object's calls, and the goals. */
import { table } from "../lib/markdown.ts";
import type { Goal } from "../lib/part-result.ts";
import { quantile } from "../lib/stats.ts";
import { PATH, summarize, type Generator, type Result } from "./load.ts";
import type { CallCounts } from "./rounds.ts";

/** What one bench run did and measured. */
export interface ThroughputRun {
  readonly command: string;
  readonly quick: boolean;
  readonly generator: Generator;
  readonly generatorLabel: string;
  readonly connections: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly rounds: number;
  /** The balancer's SNAPSHOT_TTL_MS. */
  readonly ttlMs: number;
  /** The revisions measured, e.g. "current = abc1234". */
  readonly revs: readonly string[];
  readonly miniflare: { readonly version: string; readonly workerd: string };
  readonly loadAverage: string;
  readonly machine: string;
  /** Per target, one result per round. */
  readonly results: ReadonlyMap<string, Result[]>;
  /** Per balancer target, the Durable Object's calls summed over the measured runs. */
  readonly calls: ReadonlyMap<string, CallCounts>;
}

/** The figures of a run: the medians per target, their tables and the goals. */
export function throughputFigures(run: ThroughputRun) {
  const { rounds, seconds, ttlMs, results, calls } = run;
  const summary = new Map([...results].map(([name, rs]) => [name, summarize(rs)]));
  const head = ["target", "req/s", "p50 ms", "p99 ms", "errors", "non-2xx"];
  const rows = [...summary].map(([name, r]) => [
    name,
    `${r.rps.toFixed(0)}${rounds > 1 ? ` (${r.min.toFixed(0)}–${r.max.toFixed(0)})` : ""}`,
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    String(r.errors),
    String(r.non2xx),
  ]);
  const callHead = [
    "target",
    "requests measured",
    "getUpdate",
    "report",
    "probe rounds (alarm)",
    "calls per 10,000 requests",
  ];
  const per10k = (name: string) => {
    const c = calls.get(name);
    const n = summary.get(name)?.requests ?? NaN;
    return c === undefined ? NaN : ((c.getUpdate + c.report) / n) * 10_000;
  };
  const callRows = [...calls].map(([name, c]) => [
    name,
    summary.get(name)!.requests.toLocaleString("en"),
    String(c.getUpdate),
    String(c.report),
    String(c.probeRound),
    per10k(name).toFixed(2),
  ]);

  const [cur, bar] = [summary.get("current")!, summary.get("bare")!];
  const c = calls.get("current");
  // Refreshes: one per SNAPSHOT_TTL_MS per isolate, whatever the traffic (Miniflare runs one isolate).
  const allowed = rounds * (Math.ceil((seconds * 1000) / ttlMs) + 1);
  // Verdicts on the median of the per-round ratios: the two targets of one round ran back to back,
  // so a slow spell of this shared machine hits both; with one round it is the plain ratio.
  const ratio = (key: "rps" | "p50" | "p99") => {
    const [a, b] = [results.get("current")!, results.get("bare")!];
    const each = a.map((r, i) => r[key] / b[i]![key]).sort((x, y) => x - y);
    return { median: quantile(each, 0.5), each };
  };
  const [rpsRatio, p50Ratio, p99Ratio] = [ratio("rps"), ratio("p50"), ratio("p99")];
  const perRound = (r: { each: number[] }) =>
    rounds > 1 ? `, per round ${r.each.map((x) => `×${x.toFixed(2)}`).join(" ")}` : "";
  const goals: Goal[] = [
    {
      goal: "throughput ≥ 0.9× the bare worker's",
      met: rpsRatio.median >= 0.9,
      detail:
        `×${rpsRatio.median.toFixed(3)}${rounds > 1 ? " (median of the rounds' ratios" + perRound(rpsRatio) + ")" : ""}; ` +
        `medians ${cur.rps.toFixed(0)} vs ${bar.rps.toFixed(0)} req/s`,
    },
    {
      goal: "p99 latency ≤ 1.1× the bare worker's",
      met: p99Ratio.median <= 1.1,
      detail:
        `×${p99Ratio.median.toFixed(3)}${rounds > 1 ? " (median of the rounds' ratios" + perRound(p99Ratio) + ")" : ""}; ` +
        `medians ${cur.p99.toFixed(2)} vs ${bar.p99.toFixed(2)} ms; p50 ×${p50Ratio.median.toFixed(3)}`,
    },
    {
      goal: "Durable Object calls per 10,000 requests about 0 in steady state (refreshes per TTL only, no reports)",
      met: c !== undefined && c.report === 0 && c.getUpdate <= allowed,
      detail:
        c === undefined
          ? "not counted: callCounts() unavailable"
          : `${per10k("current").toFixed(2)} per 10,000 (${c.getUpdate} getUpdate, ${c.report} report in ` +
            `${cur.requests.toLocaleString("en")} requests; the TTL of ${ttlMs / 1000} s allows ${allowed}); ` +
            `${c.probeRound} alarm probe rounds besides, driven by time, not traffic`,
    },
  ];
  const speed = { title: "Req/s and latency", head, rows };
  const callTable = { title: "Durable Object calls during the measured runs", head: callHead, rows: callRows };
  return { summary, goals, speed, calls: callTable };
}

/** The report's Markdown, before formatting. */
export function throughputReport(run: ThroughputRun, figures: ReturnType<typeof throughputFigures>): string {
  const { connections, seconds, warmup, rounds, revs, miniflare, loadAverage, generatorLabel, machine } = run;
  const { summary, goals, speed, calls } = figures;
  const change = (a: number, b: number) => `${a >= b ? "+" : ""}${((a / b - 1) * 100).toFixed(1)} %`;
  const compare = (label: string, a?: Result, b?: Result): string[] =>
    a && b
      ? [`- ${label}: req/s ${change(a.rps, b.rps)}, p50 ${change(a.p50, b.p50)}, p99 ${change(a.p99, b.p99)}`]
      : [];
  const header =
    `Machine: ${machine}, miniflare ${miniflare.version} (workerd ${miniflare.workerd}). ` +
    `Load: ${generatorLabel}, ${connections} connections, ${seconds} s per target after ${warmup} s warm-up` +
    `${rounds > 1 ? `, ${rounds} alternating rounds (medians; req/s range in brackets)` : ""}, GET ${PATH}, each ` +
    `request from a fresh random CF-Connecting-IP (IPv4 in 198.18.0.0/15 or an IPv6 /64 in 2001:db8::/32). ` +
    `${revs.join("; ")}; ORIGINS = 3 node:http origins on loopback; bare spreads over the ` +
    `same 3 by a string hash of CF-Connecting-IP % 3. 1-min load average at start: ${loadAverage}. ${new Date().toISOString()}`;
  const text = [
    header,
    "",
    table(speed.head, speed.rows),
    "",
    ...compare("overhead vs bare (current)", summary.get("current"), summary.get("bare")),
    ...compare("overhead vs bare (baseline)", summary.get("baseline"), summary.get("bare")),
    ...compare("current vs baseline", summary.get("current"), summary.get("baseline")),
    "",
    "## Durable Object calls during the measured runs",
    "",
    table(calls.head, calls.rows),
    "",
    "Counted by the object itself (`callCounts()`), read when each measured run starts and ends. Refreshes " +
      "(`getUpdate`) come once per `SNAPSHOT_TTL_MS` per isolate whatever the traffic; reports only after failures; " +
      "probe rounds from the object's own alarm every `HEALTH_INTERVAL_MS`.",
    "",
    "## Goals (issue 5)",
    "",
    ...goals.map((g) => `- ${g.met ? "met" : "**missed**"}: ${g.goal} — ${g.detail}`),
  ].join("\n");
  return `# Worker throughput\n\n${text}\n`;
}
