/**
 * worker-throughput.md: the ratios of each pair measured at the same time (the balancer against the
 * bare worker, and the bare worker against itself as the control), req/s and latency per worker,
 * the Durable Object's calls, and the goals.
 */
import { table } from "../lib/markdown.ts";
import type { FigureTable, Goal } from "../lib/part-result.ts";
import { quantile, spread, type Spread } from "../lib/stats.ts";
import { PATH, summarize, type Generator, type Result } from "./load.ts";
import type { CallCounts, PairRun } from "./rounds.ts";
import { stallTable } from "./stalls.ts";

/** What one bench run did and measured. */
export interface ThroughputRun {
  readonly command: string;
  readonly quick: boolean;
  readonly generator: Generator;
  readonly generatorLabel: string;
  readonly connections: number;
  /** Requests/s per worker on a fixed schedule (open-loop.ts); absent: a closed loop of `connections`. */
  readonly rate?: number;
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
  /** Where the processes ran (taskset), or why they were not pinned. */
  readonly pinning: string;
  /** Every pair's run, round by round. */
  readonly runs: readonly PairRun[];
  /** Per balancer target, the Durable Object's calls summed over the measured runs. */
  readonly calls: ReadonlyMap<string, CallCounts>;
}

/** The pairs (see bench-worker.ts): a is read against b. */
export const PAIRS = {
  balancer: { name: "balancer vs bare", a: "current", b: "bare" },
  control: { name: "bare vs bare (control)", a: "control-a", b: "control-b" },
  baseline: { name: "baseline vs bare", a: "baseline", b: "baseline-bare" },
} as const;

const x = (s: Spread) => `×${s.median.toFixed(3)}`;
const half = (s: Spread) => `${s.low.toFixed(3)}–${s.high.toFixed(3)}`;

/** The figures of a run: per-pair ratios, per-worker medians, their tables and the goals. */
export function throughputFigures(run: ThroughputRun) {
  const { rounds, seconds, ttlMs, runs, calls } = run;
  const ratios = new Map<string, { rps: Spread; p50: Spread; p99: Spread; loadCpu: number; n: number }>();
  const perWorker = new Map<string, Result[]>();
  for (const pair of Object.values(PAIRS)) {
    const mine = runs.filter((r) => r.pair === pair.name);
    if (mine.length === 0) continue;
    const of = (key: "rps" | "p50" | "p99") => spread(mine.map((r) => r.a[key] / r.b[key]));
    const loadCpu = quantile(
      mine.map((r) => r.loadCpu),
      0.5,
    );
    ratios.set(pair.name, { rps: of("rps"), p50: of("p50"), p99: of("p99"), loadCpu, n: mine.length });
    perWorker.set(
      pair.a,
      mine.map((r) => r.a),
    );
    perWorker.set(
      pair.b,
      mine.map((r) => r.b),
    );
  }
  const summary = new Map([...perWorker].map(([name, rs]) => [name, summarize(rs)]));
  const ratioTable: FigureTable = {
    title: "Ratios of the two workers of a pair, measured at the same time (median over the rounds; middle half)",
    head: ["pair", "rounds", "req/s ratio", "middle half", "p99 ratio", "middle half", "p50 ratio", "load core busy"],
    rows: [...ratios].map(([name, r]) => [
      name,
      String(r.n),
      x(r.rps),
      half(r.rps),
      x(r.p99),
      half(r.p99),
      x(r.p50),
      `${(r.loadCpu * 100).toFixed(0)} %`,
    ]),
  };
  const speed: FigureTable = {
    title: "Req/s and latency per worker (medians over the rounds; req/s range in brackets)",
    head: ["worker", "req/s", "p50 ms", "p99 ms", "errors", "non-2xx"],
    rows: [...summary].map(([name, r]) => [
      name,
      `${r.rps.toFixed(0)}${rounds > 1 ? ` (${r.min.toFixed(0)}–${r.max.toFixed(0)})` : ""}`,
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      String(r.errors),
      String(r.non2xx),
    ]),
  };
  const per10k = (name: string) => {
    const c = calls.get(name);
    const n = summary.get(name)?.requests ?? NaN;
    return c === undefined ? NaN : ((c.getUpdate + c.report) / n) * 10_000;
  };
  const callTable: FigureTable = {
    title: "Durable Object calls during the measured runs",
    head: ["worker", "requests measured", "getUpdate", "report", "probe rounds (alarm)", "calls per 10,000 requests"],
    rows: [...calls].map(([name, c]) => [
      name,
      summary.get(name)!.requests.toLocaleString("en"),
      String(c.getUpdate),
      String(c.report),
      String(c.probeRound),
      per10k(name).toFixed(2),
    ]),
  };

  const lb = ratios.get(PAIRS.balancer.name)!;
  const control = ratios.get(PAIRS.control.name);
  const [cur, bar] = [summary.get("current")!, summary.get("bare")!];
  const c = calls.get("current");
  // Refreshes: one per SNAPSHOT_TTL_MS per isolate, whatever the traffic (Miniflare runs one isolate).
  const allowed = rounds * (Math.ceil((seconds * 1000) / ttlMs) + 1);
  const beside = (key: "rps" | "p99") =>
    `${x(lb[key])} (middle half ${half(lb[key])} over ${lb.n} round${lb.n > 1 ? "s" : ""}; control bare vs bare ` +
    (control ? `${x(control[key])}, middle half ${half(control[key])})` : "not run)");
  const rpsDetail = `${beside("rps")}; medians ${cur.rps.toFixed(0)} vs ${bar.rps.toFixed(0)} req/s`;
  const p99Detail = `${beside("p99")}; medians ${cur.p99.toFixed(2)} vs ${bar.p99.toFixed(2)} ms; p50 ${x(lb.p50)}`;
  const goals: Goal[] =
    run.rate === undefined
      ? [
          { goal: "throughput ≥ 0.9× the bare worker's", met: lb.rps.median >= 0.9, detail: rpsDetail },
          { goal: "p99 latency ≤ 1.1× the bare worker's", met: lb.p99.median <= 1.1, detail: p99Detail },
          { goal: "throughput ≥ 0.97× the bare worker's (issue 13)", met: lb.rps.median >= 0.97, detail: rpsDetail },
          { goal: "p99 latency ≤ 1.05× the bare worker's (issue 13)", met: lb.p99.median <= 1.05, detail: p99Detail },
        ]
      : rateGoals(run.rate, runs, lb, p99Detail);
  goals.push({
    goal: "Durable Object calls per 10,000 requests about 0 in steady state (refreshes per TTL only, no reports)",
    met: c !== undefined && c.report === 0 && c.getUpdate <= allowed,
    detail:
      c === undefined
        ? "not counted: callCounts() unavailable"
        : `${per10k("current").toFixed(2)} per 10,000 (${c.getUpdate} getUpdate, ${c.report} report in ` +
          `${cur.requests.toLocaleString("en")} requests; the TTL of ${ttlMs / 1000} s allows ${allowed}); ` +
          `${c.probeRound} alarm probe rounds besides, driven by time, not traffic`,
  });
  const stalls = run.rate === undefined ? null : stallTable(runs, [...ratios.keys()], seconds);
  return { summary, ratios, goals, ratioTable, speed, calls: callTable, stalls };
}

/** At a fixed rate: the latency goal holds only where every worker kept up (else it measured a queue again). */
function rateGoals(rate: number, runs: readonly PairRun[], lb: { p99: Spread }, p99Detail: string): Goal[] {
  const slowest = Math.min(...runs.flatMap((r) => [r.a.rps, r.b.rps]));
  return [
    {
      goal: `every worker served the offered ${rate} req/s in every run (≥ 0.97×), so the latencies are not a queue's`,
      met: slowest >= 0.97 * rate,
      detail: `the slowest run served ${slowest.toFixed(0)} req/s`,
    },
    {
      goal: `p99 latency ≤ 1.05× the bare worker's at ${rate} req/s per worker (issue 13)`,
      met: slowest >= 0.97 * rate && lb.p99.median <= 1.05,
      detail: p99Detail,
    },
  ];
}

/** The report's Markdown, before formatting. */
export function throughputReport(run: ThroughputRun, figures: ReturnType<typeof throughputFigures>): string {
  const { connections, seconds, warmup, rounds, revs, miniflare, loadAverage, generatorLabel, machine } = run;
  const { goals, ratioTable, speed, calls, stalls } = figures;
  const header =
    `Machine: ${machine}, miniflare ${miniflare.version} (workerd ${miniflare.workerd}). ` +
    `Method: the two workers of a pair, each in its own fresh Miniflare (its own workerd process), loaded at the ` +
    `same time by two load generators; ${rounds} round${rounds > 1 ? "s" : ""}, each running every pair once in ` +
    `alternating order. Pinning: ${run.pinning}. Load: ${generatorLabel}, ` +
    (run.rate === undefined
      ? `a closed loop of ${connections} connections per worker, `
      : `an open loop: ${run.rate} requests/s per worker on a fixed schedule, whatever the worker answers, ` +
        `timed from when each is handed to the agent (at most ${connections} connections; a request waiting ` +
        `for one is charged the wait), `) +
    `${seconds} s measured after ${warmup} s warm-up, GET ${PATH}, each request from a fresh random CF-Connecting-IP ` +
    `(IPv4 in 198.18.0.0/15 or an IPv6 /64 in 2001:db8::/32). ${revs.join("; ")}; ORIGINS = 3 node:http origins ` +
    `on loopback; bare spreads over the same 3 by a string hash of CF-Connecting-IP % 3. ` +
    `1-min load average at start: ${loadAverage}. ${new Date().toISOString()}`;
  const text = [
    header,
    "",
    `## ${ratioTable.title}`,
    "",
    table(ratioTable.head, ratioTable.rows),
    "",
    "The control reads two identical bare workers against each other: how far from ×1 its middle half reaches is " +
      "what this machine cannot resolve. Load core busy: this process's CPU time (load generators and origins) " +
      "over the measured wall time; near 100 % the load generator, not workerd, would be the limit.",
    "",
    ...(stalls === null
      ? []
      : [
          `## ${stalls.title}`,
          "",
          table(stalls.head, stalls.rows),
          "",
          "Shared: of the first worker's requests at or above its p99, those sent within the window of one of " +
            "the other's. Far above chance, the tail is mostly the machine stalling both at once (the host, or " +
            "the core with the load generators and origins); near chance, the first worker's slow requests are " +
            "its own. By chance: the share of the measured time within the window of one of the other's slow requests.",
          "",
        ]),
    `## ${speed.title}`,
    "",
    table(speed.head, speed.rows),
    "",
    `## ${calls.title}`,
    "",
    table(calls.head, calls.rows),
    "",
    "Counted by the object itself (`callCounts()`), read when each measured run starts and ends. Refreshes " +
      "(`getUpdate`) come once per `SNAPSHOT_TTL_MS` per isolate whatever the traffic; reports only after failures; " +
      "probe rounds from the object's own alarm every `HEALTH_INTERVAL_MS`.",
    "",
    "## Goals (issues 5 and 13)",
    "",
    ...goals.map((g) => `- ${g.met ? "met" : "**missed**"}: ${g.goal} — ${g.detail}`),
  ].join("\n");
  const title = run.rate === undefined ? "Worker throughput" : `Worker latency at ${run.rate} req/s`;
  return `# ${title}\n\n${text}\n`;
}
