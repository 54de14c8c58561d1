/**
 * worker-profile.md: CPU per request of the balancer and the bare worker (samples × interval ÷
 * requests), what it costs on Workers Standard pricing at 1M requests/s, and self time by source
 * file and by function, each from the samples counted.
 */
import { table, textTable } from "../lib/markdown.ts";
import { spread, type Spread } from "../lib/stats.ts";
import type { FigureTable, Goal } from "../lib/part-result.ts";
import type { Result } from "../bench-worker/load.ts";
import { WORKERS_STANDARD, workersCost } from "./pricing.ts";
import type { ProfileSettings } from "./options.ts";
import type { SelfTime } from "./self-time.ts";

/** One worker profiled. */
export interface ProfiledTarget {
  /** "bare" or "current" (the balancer). */
  readonly name: string;
  readonly label: string;
  readonly load: Result;
  readonly self: SelfTime;
  /** CPU time of the workerd process running it (/proc), over the profiled window. */
  readonly workerdCpuMs: number;
  /** The scripts whose source map was read. */
  readonly mapped: readonly string[];
  /** Each round's requests and JS samples, in round order. */
  readonly rounds: readonly { readonly requests: number; readonly js: number }[];
}

export interface ProfileRun extends ProfileSettings {
  readonly intervalUs: number;
  /** All workers of a round profiled at the same time (with the control), else one after the other. */
  readonly together: boolean;
  readonly targets: readonly ProfiledTarget[];
}

/** The rate the cost is stated for. */
export const PRICED_RPS = 1_000_000;
const TOP_FUNCTIONS = { current: 25, bare: 10 } as Record<string, number>;

const usd = (x: number) => `$${Math.round(x).toLocaleString("en")}`;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** µs of the isolate's work per request for `samples` samples. */
export const perRequest = (samples: number, run: ProfileRun, t: ProfiledTarget) =>
  (samples * run.intervalUs) / t.load.requests;

/** The figures of a run: CPU per request per target, the cost, the self-time tables and the goal. */
export function profileFigures(run: ProfileRun) {
  const cpu = new Map(run.targets.map((t) => [t.name, perRequest(t.self.js, run, t)]));
  const cpuTable: FigureTable = {
    title: "CPU per request in the worker's isolate (samples × interval ÷ requests)",
    head: [
      "worker",
      "requests",
      "req/s",
      "samples",
      "JS samples",
      "µs JS / request",
      "µs JS + workerd C++ / request",
      "GC share of JS",
      "µs between samples (mean)",
      "workerd process CPU µs / request",
    ],
    rows: run.targets.map((t) => [
      t.label,
      t.load.requests.toLocaleString("en"),
      t.load.rps.toFixed(0),
      t.self.samples.toLocaleString("en"),
      t.self.js.toLocaleString("en"),
      cpu.get(t.name)!.toFixed(1),
      perRequest(t.self.js + t.self.program, run, t).toFixed(1),
      pct(t.self.js === 0 ? 0 : t.self.gc / t.self.js),
      (t.self.spanUs / Math.max(1, t.self.samples)).toFixed(0),
      ((t.workerdCpuMs * 1000) / t.load.requests).toFixed(0),
    ]),
  };
  const [lb, bare] = [cpu.get("current") ?? NaN, cpu.get("bare") ?? NaN];
  const costs = run.targets.map((t) => ({ t, cost: workersCost(PRICED_RPS, cpu.get(t.name)!) }));
  const costRows = costs.map(({ t, cost }) => [
    t.label,
    cpu.get(t.name)!.toFixed(1),
    Math.round(cost.cpuMsPerSecond).toLocaleString("en"),
    usd(cost.cpuUsdPerMonth),
    usd(cost.requestsUsdPerMonth),
    pct(cost.cpuUsdPerMonth / (cost.cpuUsdPerMonth + cost.requestsUsdPerMonth)),
  ]);
  const [lbCost, bareCost] = [workersCost(PRICED_RPS, lb), workersCost(PRICED_RPS, bare)];
  const added = lbCost.cpuUsdPerMonth - bareCost.cpuUsdPerMonth;
  const costTable: FigureTable = {
    title:
      `On Workers Standard pricing at ${PRICED_RPS.toLocaleString("en")} requests/s (30-day month; ` +
      `$${WORKERS_STANDARD.usdPerMillionRequests.toFixed(2)} per million requests, ` +
      `$${WORKERS_STANDARD.usdPerMillionCpuMs.toFixed(2)} ` +
      `per million CPU ms, after the included allowances; ${WORKERS_STANDARD.source}, read ${WORKERS_STANDARD.read})`,
    head: ["worker", "µs CPU / request", "CPU ms / s", "CPU / month", "requests / month", "CPU share of the bill"],
    rows: costRows,
  };
  const ratio = lb / bare;
  // Each round's balancer against the same round's bare worker: the machine's drift between rounds
  // moves both, so the spread of these says how far the summed ratio can be trusted.
  const bareTarget = run.targets.find((t) => t.name === "bare");
  const perRound = (t: ProfiledTarget | undefined): Spread | null =>
    t === undefined || bareTarget === undefined
      ? null
      : spread(
          t.rounds.map((r, i) => {
            const b = bareTarget.rounds[i]!;
            return r.js / r.requests / (b.js / b.requests);
          }),
        );
  const rounds = new Map(
    run.targets.filter((t) => t.name !== "bare").map((t) => [t.name, { label: t.label, spread: perRound(t)! }]),
  );
  const roundsTable: FigureTable = {
    title:
      "Each round's balancer" +
      (rounds.has("control") ? " and control" : "") +
      " against the same round's bare worker (µs JS per request over µs JS per request)",
    head: ["worker", "summed over the rounds", "median of the rounds", "middle half", "each round"],
    rows: [...rounds].map(([name, { label, spread: r }]) => [
      label,
      `×${(cpu.get(name)! / bare).toFixed(2)}`,
      `×${r.median.toFixed(2)}`,
      `${r.low.toFixed(2)}–${r.high.toFixed(2)}`,
      r.each.map((e) => e.toFixed(2)).join(", "),
    ]),
  };
  const current = rounds.get("current")?.spread;
  const control = rounds.get("control")?.spread;
  // Priced again on the isolate's thread time: JS plus workerd's C++ outside any JS frame.
  const withCpp = run.targets.map((t) => {
    const us = perRequest(t.self.js + t.self.program, run, t);
    return `${t.label} ${us.toFixed(1)} µs, ${usd(workersCost(PRICED_RPS, us).cpuUsdPerMonth)}`;
  });
  const byFile = (t: ProfiledTarget): FigureTable => ({
    title: `Self time by source file: ${t.label} (samples; % of its JS samples)`,
    head: ["file", "samples", "% of JS", "µs / request"],
    rows: t.self.byFile.map((f) => [
      f.file,
      String(f.samples),
      pct(f.samples / t.self.js),
      perRequest(f.samples, run, t).toFixed(1),
    ]),
  });
  const byFunction = (t: ProfiledTarget): FigureTable => {
    const top = Math.min(TOP_FUNCTIONS[t.name] ?? 10, t.self.byFunction.length);
    return {
      title: `Self time by function: ${t.label}, top ${top} of ${t.self.byFunction.length}`,
      head: ["function", "file:line", "samples", "% of JS", "µs / request"],
      rows: t.self.byFunction
        .slice(0, top)
        .map((f) => [
          f.name,
          f.line > 0 ? `${f.file}:${f.line}` : f.file,
          String(f.samples),
          pct(f.samples / t.self.js),
          perRequest(f.samples, run, t).toFixed(1),
        ]),
    };
  };
  const balancer = run.targets.find((t) => t.name === "current");
  const detailTables = [balancer, bareTarget].filter((t) => t !== undefined).flatMap((t) => [byFile(t), byFunction(t)]);
  const goals: Goal[] = [
    {
      goal: "the balancer's own CPU per request ≤ 1.2× the bare worker's (issue 13)",
      met: ratio <= 1.2,
      detail:
        `×${ratio.toFixed(2)}: ${lb.toFixed(1)} vs ${bare.toFixed(1)} µs of JavaScript per request ` +
        `(+${(lb - bare).toFixed(1)} µs)` +
        (current === undefined || run.rounds < 2
          ? ""
          : `; rounds ×${current.median.toFixed(2)}, middle half ${current.low.toFixed(2)}–${current.high.toFixed(2)}`) +
        (control === undefined
          ? ""
          : ` (control: a second bare worker ×${(cpu.get("control")! / bare).toFixed(2)}, rounds ×${control.median.toFixed(2)}, middle half ${control.low.toFixed(2)}–${control.high.toFixed(2)})`) +
        `; at ${PRICED_RPS.toLocaleString("en")} req/s that adds ` +
        `${usd(added)} of CPU per month to ${usd(bareCost.cpuUsdPerMonth + bareCost.requestsUsdPerMonth)} ` +
        `(${pct(added / (bareCost.cpuUsdPerMonth + bareCost.requestsUsdPerMonth))} of the bill)`,
    },
  ];
  return { cpu, ratio, rounds, added, withCpp, cpuTable, roundsTable, costTable, detailTables, goals };
}

/** The report's Markdown, before formatting. */
export function profileReport(run: ProfileRun, figures: ReturnType<typeof profileFigures>): string {
  const { cpuTable, roundsTable, costTable, detailTables, goals } = figures;
  const mapped = run.targets
    .map(
      (t) =>
        `${t.label}: ${pct(t.self.scripted === 0 ? 0 : t.self.mapped / t.self.scripted)} of the samples in its script's own functions`,
    )
    .join("; ");
  const show = (t: FigureTable) => [`## ${t.title}`, "", table(t.head, t.rows), ""];
  const text = [
    `Machine: ${run.machine}; wrangler ${run.wrangler} (workerd ${run.workerd}). Each worker under ` +
      "`wrangler dev --no-bundle --inspector-port` (the balancer built by `wrangler deploy --dry-run` from this " +
      "tree; the bare worker is bench:worker's pass-through" +
      (run.targets.some((t) => t.name === "baseline")
        ? `; ${run.targets.find((t) => t.name === "baseline")!.label}, built the same way, beside them`
        : "") +
      (run.together
        ? ", and a second bare worker as the control), all at the same time (each its own load generator, their " +
          "warm-ups started together), in front of the same 3 "
        : "), one after the other, in front of the same 3 ") +
      `node:http origins. Load: ${run.generatorLabel}, ${run.connections} connections per worker, ${run.warmup} s warm-up, ` +
      `then ${run.seconds} s profiled, GET /bench from a fresh random CF-Connecting-IP per request; ` +
      `${run.rounds} round${run.rounds > 1 ? (run.together ? "s" : "s in alternating order") + ", each in a fresh `wrangler dev`, samples and requests summed per worker" : ""}. ` +
      `CPU profile of the worker's isolate over the Chrome DevTools Protocol, sampling every ${run.intervalUs} µs; ` +
      "Profiler.start when the load generator starts counting requests, Profiler.stop when it stops. " +
      `Pinning: ${run.pinning}. 1-min load average at start: ${run.loadAverage}. ${new Date().toISOString()}`,
    "",
    "Self time is the number of samples with the function on top of the stack (DevTools' time weighting is not " +
      "used: it charges the gaps while workerd runs other isolates to whatever was on the stack). JS samples are " +
      "all but `(program)` (workerd's C++ on the isolate's thread, outside any JavaScript frame), `(idle)` and " +
      "`(root)`; garbage collection counts as JS. The balancer's Durable Object runs in the same isolate, so its " +
      "work (refreshes, probes) is in its figures. Runtime APIs written in C++ (`fetch`, `Response`, `Headers`, " +
      `timers) are \`(workerd built-ins)\`. Source-mapped: ${mapped}. The workerd process CPU (user + system from ` +
      "/proc, all its threads) also holds wrangler's proxy worker, HTTP both ways, the inspector and the sampling " +
      "itself: an upper bound, not the worker's bill. µs between samples: the profile's span over its sample count, " +
      "far above the interval because samples are taken only while the isolate runs.",
    "",
    ...show(cpuTable),
    `Balancer / bare: ×${figures.ratio.toFixed(2)} the JavaScript CPU per request.`,
    "",
    ...(run.rounds > 1 ? show(roundsTable) : []),
    ...show(costTable),
    `The balancer's extra CPU at that rate: ${usd(figures.added)} per month. Priced on the isolate's thread ` +
      `time instead (JS + workerd's C++ outside any JS frame): ${figures.withCpp.join("; ")} of CPU per month.`,
    "",
    ...detailTables.flatMap(show),
    "## Goals (issue 13)",
    "",
    textTable(
      ["goal", "met", "detail"],
      goals.map((g) => [g.goal, g.met ? "yes" : "**missed**", g.detail]),
    ),
  ].join("\n");
  return `# Worker CPU profile\n\n${text}\n`;
}
