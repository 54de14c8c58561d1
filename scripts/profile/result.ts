/** worker-profile.json: the settings, CPU per request per worker and the goal, for `npm run bench`. */
import type { PartResult } from "../lib/part-result.ts";
import type { profileFigures, ProfileRun } from "./report.ts";

export interface WorkerProfileResult extends PartResult {
  readonly settings: {
    readonly connections: number;
    readonly seconds: number;
    readonly warmup: number;
    readonly intervalUs: number;
    readonly rounds: number;
    readonly pinning: string;
  };
  /** Per worker ("bare", "current"): requests, samples and µs of its own JavaScript per request. */
  readonly workers: Readonly<
    Record<
      string,
      { readonly requests: number; readonly samples: number; readonly js: number; readonly jsUsPerRequest: number }
    >
  >;
  /** The balancer's µs per request over the bare worker's. */
  readonly ratio: number;
  /** Per balancer ("current", "baseline"): each round's ratio to that round's bare worker, median and middle half. */
  readonly roundRatios: Readonly<
    Record<
      string,
      { readonly median: number; readonly low: number; readonly high: number; readonly each: readonly number[] }
    >
  >;
}

export function workerProfileResult(run: ProfileRun, figures: ReturnType<typeof profileFigures>): WorkerProfileResult {
  const { connections, seconds, warmup, intervalUs, rounds, pinning } = run;
  return {
    machine: run.machine,
    command: run.command,
    quick: run.quick,
    goals: figures.goals,
    settings: { connections, seconds, warmup, intervalUs, rounds, pinning },
    workers: Object.fromEntries(
      run.targets.map((t) => [
        t.name,
        { requests: t.load.requests, samples: t.self.samples, js: t.self.js, jsUsPerRequest: figures.cpu.get(t.name)! },
      ]),
    ),
    ratio: figures.ratio,
    roundRatios: Object.fromEntries([...figures.rounds].map(([name, r]) => [name, r.spread])),
    tables: [
      figures.cpuTable,
      ...(rounds > 1 ? [figures.roundsTable] : []),
      figures.costTable,
      ...figures.detailTables,
    ],
  };
}
