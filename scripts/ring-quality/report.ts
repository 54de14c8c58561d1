/** ring-quality.md: every figure per scheme and size, and the goals of the worker's `slot` scheme. */
import { machineLine } from "../lib/machine.ts";
import { table } from "../lib/markdown.ts";
import type { Goal } from "../lib/part-result.ts";
import { ADDRESSES_PER_PREFIX, pct, VICTIM, WEIGHTS, type Result } from "./measure.ts";
import { SCHEMES } from "./schemes.ts";

/** What a simulation run measured. */
export interface RingQualityRun {
  readonly command: string;
  readonly clients: number;
  readonly seed: number;
  readonly sizes: readonly number[];
  readonly v6Prefixes: number;
  /** Per scheme name, per origin count. */
  readonly results: ReadonlyMap<string, ReadonlyMap<number, Result>>;
  readonly weighted: ReadonlyMap<string, { readonly deviation: number; readonly worst: string }>;
}

/** The goals of issue 5, judged on the worker's `slot` scheme. */
export function ringGoals({ clients, sizes, results }: RingQualityRun): Goal[] {
  const goal = (text: string, met: boolean, detail: string) => ({ goal: text, met, detail });
  const ours = results.get("slot")!;
  const exact = (r: { moved: number; ideal: number }) => r.moved <= r.ideal * 1.01 + 1 / clients;
  const goals = [
    // The balance goals are stated for 1M clients: fewer clients cannot show 1.02 (sampling noise).
    ...[
      [10, 1.02],
      [100, 1.04],
    ]
      .filter(([n]) => ours.has(n!) && clients >= 1_000_000)
      .map(([n, limit]) =>
        goal(`peak/mean ≤ ${limit} at ${n} origins`, ours.get(n!)!.peak <= limit!, ours.get(n!)!.peak.toFixed(4)),
      ),
    ...sizes.map((n) =>
      goal(
        `removal at ${n} origins moves ≤ 1.01 × the removed origin's share`,
        exact(ours.get(n)!.removal),
        `${pct(ours.get(n)!.removal.moved)} vs ideal ${pct(ours.get(n)!.removal.ideal)}`,
      ),
    ),
    ...sizes.map((n) =>
      goal(
        `addition at ${n} origins moves ≤ 1.01 × the clients the newcomer takes`,
        exact({ moved: ours.get(n)!.addition.moved, ideal: ours.get(n)!.addition.minimum }),
        `${pct(ours.get(n)!.addition.moved)} vs ${pct(ours.get(n)!.addition.minimum)} taken (1/(N+1) = ${pct(ours.get(n)!.addition.ideal)})`,
      ),
    ),
    ...sizes.map((n) =>
      goal(
        `failure at ${n} origins: zero collateral moves`,
        ours.get(n)!.failure.collateral === 0,
        `${ours.get(n)!.failure.collateral} collateral`,
      ),
    ),
    ...sizes.map((n) => goal(`every /64 whole at ${n} origins`, ours.get(n)!.v6.ours === 1, pct(ours.get(n)!.v6.ours))),
  ];
  return goals;
}

export function ringQualityReport(run: RingQualityRun, goals: readonly Goal[]): string {
  const { command, clients, seed, sizes, v6Prefixes, results, weighted } = run;
  function excess({ moved, ideal }: { moved: number; ideal: number }): string {
    const delta = moved - ideal;
    return `${delta >= 0 ? "+" : "−"}${Math.abs(delta * 100).toFixed(3)} pp, ×${(moved / ideal).toFixed(2)}`;
  }
  function perSize(cell: (r: Result, n: number) => string): string {
    const rows = SCHEMES.map((s) => [s.name, ...sizes.map((n) => cell(results.get(s.name)!.get(n)!, n))]);
    return table(["scheme", ...sizes.map((n) => `N = ${n.toLocaleString("en")}`)], rows);
  }
  return `# Ring mapping quality

Machine: ${machineLine()}. Clients: ${clients.toLocaleString("en")} (half IPv4 addresses, half IPv6 /64s, keyed by \`clientKey\` and hashed by \`xxh32\` as the worker does), seed ${seed}. Command: \`${command}\`. Equal-weight origins \`origin-0\` … \`origin-<N−1>\`; \`origin-${VICTIM}\` is the one removed and failed. Schemes: \`ring-160\` = \`buildRing(members, 160)\` (random virtual nodes, the first ring); \`maglev\` = \`buildSlotRing(members)\` (Maglev's fill, refilled from scratch on every change); \`slot\` (**the worker's**) = the same fill at first, then changed by \`updateLayout\` as the Durable Object does on every membership or weight change; \`rendezvous\` = highest-random-weight hashing, the reference for what sampling this many clients allows.

## Load: peak/mean · min/mean

${perSize((r) => `${r.peak.toFixed(4)} · ${r.min.toFixed(4)}`)}

Goal (issue 5): peak/mean ≤ 1.02 at 10 origins and ≤ 1.04 at 100. Quoted from issue 5 for comparison (same machine, not
measured by this script), at 10 / 100 origins: HAProxy 2.6 default weight 1.34 / 1.43, HAProxy \`weight 100\` 1.021 /
1.041, nginx 1.11 / 1.20, ketama with 160 points 1.11 / 1.17.

## Removal of \`origin-${VICTIM}\` (a permanent change): moved share (ideal = its share; extra = moved − ideal)

${perSize((r) => `${pct(r.removal.moved)} (ideal ${pct(r.removal.ideal)}, ${excess(r.removal)})`)}

Goal (issue 5): a permanent change moves at most 1 % more than the ideal, read strictly here: moved ≤ 1.01 × ideal (the
× figure). The worker's \`slot\` scheme moves exactly the ideal; \`maglev\` (refilling) does not.

### After the removal: peak/mean over the N − 1 left · share of the removed origin's clients that move a second time when it is drained first, then removed

${perSize((r) => `${r.removal.peak.toFixed(4)} · ${pct(r.removal.secondMove)}`)}

While an origin is drained (or down) its clients go to their walk successors; removing it then hands its slots to the
same successors unless that would put one above its new share. \`ring-160\` and \`rendezvous\` need no such cap (their
heirs are the successors by construction) but are less balanced or cost O(N) per lookup.

## Failure of \`origin-${VICTIM}\` (skipped, not rebuilt): moved share · collateral moves · origins its clients spread over

${perSize((r) => `${pct(r.failure.moved)} · ${r.failure.collateral} · ${r.failure.spread}`)}

Collateral = clients that moved but were not on the failed origin; it must be 0.

## Addition of \`origin-<N>\`: moved share (ideal = 1/(N+1); extra = moved − ideal) · share the newcomer took

${perSize((r) => `${pct(r.addition.moved)} (ideal ${pct(r.addition.ideal)}, ${excess(r.addition)}) · ${pct(r.addition.minimum)}`)}

Moving more than the newcomer took is collateral: clients moved between old origins.

## Weighted: 10 origins, weights ${WEIGHTS.join(", ")}

${table(
  ["scheme", "max \\|load share / weight share − 1\\|", "worst origin"],
  SCHEMES.map((s) => [s.name, weighted.get(s.name)!.deviation.toFixed(4), weighted.get(s.name)!.worst]),
)}

## IPv6: share of /64s whose ${ADDRESSES_PER_PREFIX} addresses all land on one origin (${v6Prefixes.toLocaleString("en")} /64s)

${table(
  ["key", ...sizes.map((n) => `N = ${n.toLocaleString("en")}`)],
  [
    ...SCHEMES.flatMap((s) => [
      [`${s.name}, key = /64 (ours)`, ...sizes.map((n) => pct(results.get(s.name)!.get(n)!.v6.ours))],
      [`${s.name}, per address (raw 16 bytes)`, ...sizes.map((n) => pct(results.get(s.name)!.get(n)!.v6.raw))],
    ]),
    ["chance, 1/N³", ...sizes.map((n) => pct(1 / n ** (ADDRESSES_PER_PREFIX - 1)))],
  ],
)}

The per-address rows are what a proxy hashing the raw header does (HAProxy \`balance hdr(CF-Connecting-IP)\`, nginx \`hash $http_cf_connecting_ip\`): a /64's addresses scatter.
## Goals (the worker's \`slot\` scheme)

${table(
  ["goal", "met", "measured"],
  goals.map((g) => [g.goal, g.met ? "met" : "**missed**", g.detail]),
)}
`;
}
