/** proxy-quality.md: balance, cohesion and moves through each proxy, and our goals. */
import { machineLine, toolVersion } from "../lib/machine.ts";
import { goalTable, table } from "../lib/markdown.ts";
import type { Goal } from "../lib/part-result.ts";
import type { CohesionSet } from "./cohesion.ts";
import { share, type ProxyFigures } from "./figures.ts";

/** What a run sent through the proxies and what they did with it. */
export interface ProxyRun {
  readonly command: string;
  readonly quick: boolean;
  readonly seed: number;
  readonly clients: number;
  readonly cohesionCount: number;
  readonly concurrency: number;
  readonly ids: readonly string[];
  readonly victim: string;
  readonly sets: readonly [CohesionSet, CohesionSet, CohesionSet];
  readonly results: readonly ProxyFigures[];
  readonly floor: { readonly median: number; readonly p95: number };
  readonly notes: readonly string[];
}

/** The goals, judged on ours (the first proxy), the peers' figures alongside. */
export function proxyGoals(run: ProxyRun): Goal[] {
  const { clients, victim, sets, results, floor } = run;
  const pct = (n: number) => `${share(n, clients).toFixed(2)} %`;
  const ours = results[0];
  const peers = results.slice(1);
  const goals: Goal[] = ours
    ? [
        {
          goal: `No collateral moves when one origin fails: only the clients of ${victim} move`,
          met: ours.collateral === 0 && ours.failedAfter === 0 && ours.hadTo === ours.onVictim,
          detail: `ours moved ${pct(ours.moved)} of clients; ${pct(ours.onVictim)} were on ${victim}; collateral ${pct(ours.collateral)}; failed ${pct(ours.failedAfter)}`,
        },
        ...sets.map((set, i) => {
          const c = ours.cohesion[i]!;
          const peerText = peers.map((p) => `${p.name} ${p.cohesion[i]!.wholePercent.toFixed(1)} %`).join(", ");
          return {
            goal: `Cohesion, ${set.label.replace(/`/g, "")}: all of a group's requests land on one origin (100 %)`,
            met: c.wholePercent === 100 && c.failedGroups === 0,
            detail: `ours ${c.wholePercent.toFixed(1)} % of ${set.groups.length} groups whole (${c.failedGroups} with a failed request)${peerText ? `; ${peerText}` : ""}`,
          };
        }),
        {
          goal: "Balance at the sampling floor: peak/mean no worse than ideal random placement of these many clients gives 95 % of the time",
          met: ours.peakMean <= floor.p95,
          detail: `ours ${ours.peakMean.toFixed(3)}; ideal placement of ${clients.toLocaleString("en")} clients: median ${floor.median.toFixed(3)}, 95th percentile ${floor.p95.toFixed(3)}; ${peers.map((p) => `${p.name} ${p.peakMean.toFixed(3)}`).join(", ") || "no peers measured"}`,
        },
      ]
    : [];
  return goals;
}

export function proxyReport(run: ProxyRun, goals: readonly Goal[]): string {
  const { command, quick, seed, clients, cohesionCount, concurrency, ids, victim, sets, results, floor, notes } = run;
  const pct = (n: number) => `${share(n, clients).toFixed(2)} %`;
  const balanceRows = results.map((r) => [
    r.name,
    ...r.counts.map(String),
    r.peakMean.toFixed(3),
    r.minMean.toFixed(3),
    String(r.failedBefore),
  ]);
  const moveRows = results.map((r) => [
    r.name,
    pct(r.onVictim),
    pct(r.moved),
    pct(r.hadTo),
    pct(r.collateral),
    pct(r.failedAfter),
  ]);
  const cohesionRows = results.map((r) => [
    r.name,
    ...r.cohesion.flatMap((c) => [`${c.wholePercent.toFixed(1)} %`, `${c.chancePercent.toFixed(1)} %`]),
    String(r.cohesion.reduce((sum, c) => sum + c.failedGroups, 0)),
  ]);
  const example6 = sets[0].groups[0]!;
  const example4 = sets[1].groups[0]!;
  const example64 = sets[2].groups[0]!;
  return `# Mapping quality through the real proxies

Machine: ${machineLine()}, ${toolVersion("haproxy", "-v")}, ${toolVersion("nginx", "-v")}. Clients: ${clients.toLocaleString("en")} distinct IPv4 addresses (seed ${seed}), one GET each with \`CF-Connecting-IP\`, ${concurrency} at a time over keep-alive. Command: \`${command}\`${quick ? " (quick: small sizes, for checking that the script works)" : ""}.

Ten origins \`o0\` … \`o9\` on 127.0.0.1 (scripts/demo-origins.ts), shared by every proxy. Ours: the dist/ bundle in workerd (Miniflare), \`HEALTH_INTERVAL_MS=0\`. HAProxy: \`balance hdr(CF-Connecting-IP)\` + \`hash-type consistent\`, \`mode http\`, no health checks, default weight 1 (16 ring points per server) or \`weight 100\`. nginx: \`hash $http_cf_connecting_ip consistent\` with defaults (\`max_fails=1 fail_timeout=10s\`, \`proxy_next_upstream error timeout\`).

## Balance: clients per origin

${table(["proxy", ...ids, "peak/mean", "min/mean", "failed"], balanceRows)}

Goal (issue 5) for 10 origins: peak/mean ≤ 1.02 at 1M clients. At ${clients.toLocaleString("en")} clients sampling alone spreads each origin's count by about ±${((1 / Math.sqrt(clients / ids.length)) * 100).toFixed(1)} % (one standard deviation), so these figures show gross imbalance only (ideal random placement of this many clients gives a peak/mean of ${floor.median.toFixed(3)} in the median draw, ${floor.p95.toFixed(3)} at the 95th percentile); scripts/ring-quality.ts measures the fine one.

## Cohesion: one client, several spellings or addresses

${table(["proxy", ...sets.flatMap((set) => [`${set.label}: on one origin`, "chance"]), "groups with a failed request"], cohesionRows)}

Sent with all ten origins up, one GET per address, after the balance sweep. ${cohesionCount.toLocaleString("en")} groups per set: IPv6 addresses each spelled four ways (e.g. \`${example6.join("`, `")}\`); IPv4 addresses dotted and IPv4-mapped (\`${example4.join("`, `")}\`); IPv6 /64s with four random interface ids each (e.g. \`${example64.join("`, `")}\`). A group counts when every one of its requests was answered by the same origin. "chance" is what independent placement would give with the proxy's own shares above (Σ shareᵏ for k requests per group: about 0.1 % for four, 10 % for two). HAProxy and nginx hash the header's text, so each spelling and each address is a separate key; ours parses the address, folds an IPv4-mapped address to IPv4 and keys IPv6 by its /64 (\`IPV6_PREFIX\` 64).

## \`${victim}\` stopped: every client sent again

${table(["proxy", `clients on ${victim} before (ideal move)`, "moved", `had to move (were on ${victim})`, "collateral (moved, were not)", "failed requests (non-2xx)"], moveRows)}

Shares are of all ${clients.toLocaleString("en")} clients. No proxy is told that \`${victim}\` died: each learns it from refused connections. nginx retries the next server by default (\`proxy_next_upstream error\`) and marks it failed for \`fail_timeout\`. HAProxy needs \`retries 2\` and \`option redispatch\` (set here) to send a refused request to another server on its last retry, after a turn-around delay of up to 1 s per retry; without them those clients get 503. Ours retries the ring's next origin (\`MAX_ATTEMPTS\`).

## Goals

${goalTable(goals)}
${notes.length > 0 ? "\n" + notes.join("\n\n") + "\n" : ""}`;
}
