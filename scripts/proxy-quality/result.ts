/** proxy-quality.json: the run's inputs and each proxy's figures, as `npm run bench` reads them. */
import { machineLine, toolVersion } from "../lib/machine.ts";
import type { Goal, PartResult } from "../lib/part-result.ts";
import { share } from "./figures.ts";
import type { ProxyRun } from "./report.ts";

export interface ProxyQualityResult extends PartResult {
  readonly haproxy: string;
  readonly nginx: string;
  readonly clients: number;
  readonly cohesionGroups: number;
  readonly seed: number;
  readonly samplingFloorPeakMean: { readonly median: number; readonly p95: number };
  readonly origins: readonly string[];
  readonly victim: string;
  readonly proxies: readonly {
    readonly name: string;
    readonly counts: Readonly<Record<string, number>>;
    readonly peakMean: number;
    readonly minMean: number;
    readonly failedBefore: number;
    readonly victimSharePercent: number;
    readonly movedPercent: number;
    readonly hadToMovePercent: number;
    readonly collateralPercent: number;
    readonly failedAfterPercent: number;
    readonly cohesion: Readonly<
      Record<string, { readonly wholePercent: number; readonly chancePercent: number; readonly failedGroups: number }>
    >;
  }[];
  readonly notes: readonly string[];
}

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

export function proxyQualityResult(run: ProxyRun, goals: readonly Goal[]): ProxyQualityResult {
  const { command, quick, seed, clients, cohesionCount, ids, victim, results, floor, notes } = run;
  const percent = (n: number) => round(share(n, clients));
  return {
    machine: machineLine(),
    haproxy: toolVersion("haproxy", "-v"),
    nginx: toolVersion("nginx", "-v"),
    command,
    quick,
    clients,
    cohesionGroups: cohesionCount,
    seed,
    samplingFloorPeakMean: { median: round(floor.median), p95: round(floor.p95) },
    origins: ids,
    victim,
    proxies: results.map((r) => ({
      name: r.name,
      counts: Object.fromEntries(ids.map((id, i) => [id, r.counts[i]!])),
      peakMean: round(r.peakMean),
      minMean: round(r.minMean),
      failedBefore: r.failedBefore,
      victimSharePercent: percent(r.onVictim),
      movedPercent: percent(r.moved),
      hadToMovePercent: percent(r.hadTo),
      collateralPercent: percent(r.collateral),
      failedAfterPercent: percent(r.failedAfter),
      cohesion: Object.fromEntries(
        r.cohesion.map((c) => [
          c.key,
          { wholePercent: round(c.wholePercent), chancePercent: round(c.chancePercent), failedGroups: c.failedGroups },
        ]),
      ),
    })),
    goals,
    notes,
  };
}
