/** worker-throughput.json: the settings, the medians per target and the Durable Object's calls. */
import type { PartResult } from "../lib/part-result.ts";
import type { Generator } from "./load.ts";
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
  };
  /** Per target: "bare", "current" and with --baseline "baseline". */
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
    settings: { generator, connections, seconds, warmup, rounds, ttlMs },
    results: Object.fromEntries(figures.summary),
    calls: Object.fromEntries(run.calls),
    tables: [figures.speed, figures.calls],
  };
}
