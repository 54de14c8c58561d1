/** worker-throughput.json: the settings, the ratios per pair, the medians per worker and the Durable Object's calls. */
import type { PartResult } from "../lib/part-result.ts";
import type { Generator } from "./load.ts";
import type { Spread } from "../lib/stats.ts";
import type { throughputFigures, ThroughputRun } from "./report.ts";
import type { CallCounts } from "./rounds.ts";

/** A target's medians over the rounds (errors, non-2xx and requests summed), and the range of req/s. */
export interface TargetFigures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly requests: number;
  readonly min: number;
  readonly max: number;
}

export interface WorkerThroughputResult extends PartResult {
  readonly settings: {
    readonly generator: Generator;
    readonly connections: number;
    readonly seconds: number;
    readonly warmup: number;
    readonly rounds: number;
    readonly ttlMs: number;
    readonly pinning: string;
  };
  /** Per pair ("balancer vs bare", "bare vs bare (control)"…): a's req/s, p50 and p99 over b's, over the rounds. */
  readonly ratios: Readonly<Record<string, { readonly rps: Spread; readonly p50: Spread; readonly p99: Spread }>>;
  /** Per worker: "current" and "bare" (the balancer's pair), "control-a" and "control-b", with --baseline "baseline" and "baseline-bare". */
  readonly results: Readonly<Record<string, TargetFigures>>;
  readonly calls: Readonly<Record<string, CallCounts>>;
}

export function workerThroughputResult(
  run: ThroughputRun,
  figures: ReturnType<typeof throughputFigures>,
): WorkerThroughputResult {
  const { generator, connections, seconds, warmup, rounds, ttlMs } = run;
  return {
    machine: run.machine,
    command: run.command,
    quick: run.quick,
    goals: figures.goals,
    settings: { generator, connections, seconds, warmup, rounds, ttlMs, pinning: run.pinning },
    ratios: Object.fromEntries([...figures.ratios].map(([name, r]) => [name, { rps: r.rps, p50: r.p50, p99: r.p99 }])),
    results: Object.fromEntries(figures.summary),
    calls: Object.fromEntries(run.calls),
    tables: [figures.ratioTable, ...(figures.stalls === null ? [] : [figures.stalls]), figures.speed, figures.calls],
  };
}
