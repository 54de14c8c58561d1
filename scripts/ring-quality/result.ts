/** ring-quality.json: every scheme's figures per origin count, as `npm run bench` reads them. */
import { machineLine } from "../lib/machine.ts";
import type { Goal, PartResult } from "../lib/part-result.ts";
import type { Result } from "./measure.ts";
import type { RingQualityRun } from "./report.ts";
import { SCHEMES } from "./schemes.ts";

export interface RingQualityResult extends PartResult {
  readonly clients: number;
  readonly seed: number;
  /** One row per scheme and origin count `n`. */
  readonly results: readonly ({ readonly scheme: string; readonly n: number } & Result)[];
  readonly weighted: readonly { readonly scheme: string; readonly deviation: number; readonly worst: string }[];
}

export function ringQualityResult(run: RingQualityRun, quick: boolean, goals: readonly Goal[]): RingQualityResult {
  return {
    machine: machineLine(),
    command: run.command,
    quick,
    clients: run.clients,
    seed: run.seed,
    results: SCHEMES.flatMap((scheme) =>
      run.sizes.map((n) => ({ scheme: scheme.name, n, ...run.results.get(scheme.name)!.get(n)! })),
    ),
    weighted: SCHEMES.map((scheme) => ({ scheme: scheme.name, ...run.weighted.get(scheme.name)! })),
    goals,
  };
}
