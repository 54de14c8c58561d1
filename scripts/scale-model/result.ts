/** scale-model.json: the inputs, every case and the probe and snapshot figures, as `npm run bench` reads them. */
import type { PartResult } from "../lib/part-result.ts";
import type { Case } from "./figures.ts";
import { ASSUMED_ISOLATES, D, SOFT_LIMIT, type probes, type ScaleInputs } from "./model.ts";
import { caseTable, trafficTable, type ScaleFigures } from "./report.ts";

export interface ScaleModelResult extends PartResult {
  readonly inputs: ScaleInputs & { readonly softLimit: number; readonly settings: typeof D };
  readonly cases: readonly Case[];
  readonly probes: { readonly healthy: ReturnType<typeof probes>; readonly tenBlackholed: ReturnType<typeof probes> };
  readonly answerBytes: { readonly list: number; readonly layout: number };
}

export function scaleModelResult(
  inputs: ScaleInputs,
  figures: ScaleFigures,
  command: string,
  quick: boolean,
): ScaleModelResult {
  const { locations, origins, rps } = inputs;
  return {
    machine: "a model: no machine dependence",
    command,
    quick,
    goals: figures.goals,
    inputs: { locations, origins, rps, softLimit: SOFT_LIMIT, settings: D },
    cases: figures.cases.map((c) => ({ ...c, burst: { ...c.burst } })),
    probes: { healthy: figures.probe, tenBlackholed: figures.probeDegraded },
    answerBytes: figures.bytes,
    tables: [
      { title: "Calls into the Durable Object", ...caseTable(inputs, figures) },
      {
        title: `Client traffic (${ASSUMED_ISOLATES} isolates per location, TTL ${D.ttlMs / 1000} s)`,
        ...trafficTable(figures),
      },
    ],
  };
}
