/** failover.md: the settings, the four measurements a–d, and the goals applied to every proxy. */
import { machineLine, toolVersion } from "../lib/machine.ts";
import { table } from "../lib/markdown.ts";
import type { Goal } from "../lib/part-result.ts";
import { readmitBound, type HealthResult } from "./cycles.ts";
import { ms, ms1 } from "./format.ts";
import type { LatencyResult } from "./latency.ts";
import { HAPROXY_CHECK, LOAD_RATE, VICTIM, type Settings } from "./settings.ts";
import type { Configs } from "./targets.ts";
import { addedMedian, addedP99, worst, type Verdict } from "./verdicts.ts";

/** What a failover run measured and concluded. */
export interface FailoverRun {
  readonly settings: Settings;
  readonly command: string;
  readonly latency: readonly LatencyResult[];
  readonly health: readonly HealthResult[];
  readonly configs: Configs;
  readonly verdict: (name: string) => Verdict;
  readonly goals: readonly Goal[];
  readonly oursHealth: HealthResult;
  readonly notes: readonly string[];
  readonly peersMeasured: boolean;
}

export function failoverReport(run: FailoverRun): string {
  const { settings, command, latency, health, configs, verdict, goals, oursHealth, notes, peersMeasured } = run;
  const { sizes, tryTimeoutMs, probeIntervalMs, rise } = settings;
  const yes = (b: boolean) => (b ? "yes" : "**missed**");
  const latencyRows = (what: "refused" | "blackhole") =>
    latency.map((l) => [
      l.name,
      String(what === "refused" ? l.requests : l.blackholeRequests),
      ms1(l.upMedian),
      ms1(l.upP99),
      ms1(what === "refused" ? l.refusedMedian : l.blackholeMedian),
      ms1(what === "refused" ? l.refusedP99 : l.blackholeP99),
      ms1(addedMedian(l, what)),
      ms1(addedP99(l, what)),
      what === "refused" ? `${l.refusedTried} / ${l.requests}` : `${l.blackholeConnections} / ${l.blackholeRequests}`,
      what === "refused" ? l.refusedStatuses : l.blackholeStatuses,
    ]);
  const detectRows = health.flatMap((h) =>
    h.cycles.map((c, i) => [
      h.name,
      String(i + 1),
      ms(c.detectMs),
      ms(c.lastTriedMs),
      `${c.triedRequests} / ${c.deadRequests}`,
      String(c.triedAfterDetect),
      ms(c.maxAddedMs),
      ms(c.p99AddedMs),
      String(c.slowRequests),
      String(c.errorsDead),
    ]),
  );
  const readmitRows = health.flatMap((h) =>
    h.cycles.map((c, i) => [
      h.name,
      String(i + 1),
      ms(c.readmitMs),
      ms(c.allBackMs),
      ms(readmitBound(h.kind, settings)),
      c.readmitMs !== null && c.readmitMs <= readmitBound(h.kind, settings) ? "yes" : "no",
      String(c.errorsRecovery),
    ]),
  );
  const peerRows = latency.map((l) => {
    const v = verdict(l.name);
    return [
      l.name,
      yes(v.noError),
      yes(v.refusedUnderSecond),
      yes(v.blackholeWithinTimeout),
      yes(v.detectionUnderSecond),
      yes(v.readmitWithinBound),
    ];
  });
  const timeline = health
    .filter((h) => h.kind !== "nginx")
    .flatMap((h) => h.cycles.map((c, i) => `- ${h.name}, cycle ${i + 1}: ${c.events.join("; ") || "no change seen"}`))
    .join("\n");
  const settingsOf = (vars: Record<string, string>) =>
    Object.entries(vars)
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(", ");
  const configExcerpt = (config: string, keep: RegExp) =>
    config
      .split("\n")
      .filter((line) => keep.test(line))
      .map((line) => line.trim())
      .filter((line, i, all) => !line.startsWith("server ") || all.findIndex((x) => x.startsWith("server ")) === i)
      .join("\n");

  const oursWorstReadmit = worst(oursHealth, (c) => c.readmitMs);
  const ttl = Number(settings.oursHealth.SNAPSHOT_TTL_MS);
  const readmitNote =
    oursWorstReadmit > probeIntervalMs * rise && oursWorstReadmit <= probeIntervalMs * rise + ttl
      ? `Our re-admission misses the probe interval × rise by the snapshot refresh: the Durable Object reaches its verdict with the ${rise === 2 ? "second" : `${rise}th`} passing probe, about ${ms(probeIntervalMs * rise)} after the recovery at worst (the timeline above shows when), but the isolate that serves the clients routes on it only from its next refresh, up to \`SNAPSHOT_TTL_MS\` later (here the worst case was ${ms(oursWorstReadmit)}, within interval × rise + TTL = ${ms(probeIntervalMs * rise + ttl)}). Closing it takes getting the verdict to the isolates sooner (a shorter \`SNAPSHOT_TTL_MS\` costs Durable Object calls, see the README's scale table) or a goal that counts the TTL.\n\n`
      : "";
  const dur = (x: number) => `${x / 1000} s`;
  return `# Failover cost

Machine: ${machineLine()}, ${toolVersion("haproxy", "-v")}, ${toolVersion("nginx", "-v")}. Command: \`${command}\`${settings.quick ? " (quick: small sizes, for checking that the script works)" : ""}. Issue 5, "Measure" item 4.

Ten origins \`o0\` … \`o9\` on 127.0.0.1 (scripts/demo-origins.ts) behind each proxy; \`${VICTIM}\` is the one that fails. ${sizes.candidates.toLocaleString("en")} seeded IPv4 clients (seed ${settings.seed}) are mapped through each proxy with all origins up; the ones whose first choice is \`${VICTIM}\` there are that proxy's "victim clients" (${health.map((h) => `${h.name} ${h.victims}`).join(", ")}). Each proxy's per-try timeout is ${tryTimeoutMs} ms (ours \`TRY_TIMEOUT_MS\`, HAProxy \`timeout server\`, nginx \`proxy_read_timeout\`). Latencies are the client's (a Node HTTP client on the same machine, keep-alive), whole response; the machine's 2 cores are shared with the proxies, so single milliseconds are noise.

## Settings

**a and b** measure what one request pays while a proxy still tries the failed primary, so each proxy's learning is off and every request pays it: ours ${settingsOf(settings.oursNoLearning)} (no probe alarm, no ejection within the run, every request may retry); HAProxy without \`check\`; nginx with \`max_fails=0\`. How many requests pay it is what c measures.

**c and d** run all three proxies at once, with health checking on, through ${sizes.cycles} death(s) of \`${VICTIM}\` (its process closed: connections refused) of ${dur(sizes.deadMs)} each and its recovery on the same port. Each proxy gets ${LOAD_RATE} GETs per second, open loop, one in three from a victim client (so ${LOAD_RATE / 3}/s from the dead origin's clients, ${(2 * LOAD_RATE) / 3}/s from others).

- ours: ${settingsOf(settings.oursHealth)}, the rest default (\`EJECT_AFTER_FAILURES=5\`, \`REPORT_INTERVAL_MS=1000\`, \`EJECT_BASE_MS=30000\`, \`RETRY_BUDGET_PERCENT=50\`, \`MAX_ATTEMPTS=3\`). The health interval, fast interval and snapshot TTL are the defaults (10 s, 2 s, 10 s) scaled down 10× so the run is quick: with the defaults, the probe path and re-admission take about 10× as long (a down origin is probed every fast interval, so its verdict comes 2 × 2 s after it answers again, plus up to one 10 s TTL; the goal's bound is 10 s × 2 = 20 s); the passive path (ejection after 5 failed client requests, reported at most once per second) does not scale with them. \`SLOW_START_MS=0\` so a recovered origin takes all its clients back at once (the default 30 s ramp spreads their return over 30 s by design).
- HAProxy (\`retries 3\` + \`option redispatch\`, checks \`${HAPROXY_CHECK}\`):

\`\`\`
${configExcerpt(configs.haproxy.health, /^\s*(timeout|retries|option|balance|hash-type|server )/)}
\`\`\`

- nginx (defaults \`max_fails=1 fail_timeout=10s\`, \`proxy_next_upstream error timeout\`; open-source nginx has no active checks):

\`\`\`
${configExcerpt(configs.nginx.health, /^\s*(hash|server 127|proxy_read_timeout|proxy_next)/)}
\`\`\`

"Tried the victim" is read from each proxy's answer: ours \`X-LB-Attempts\` > 1 (\`DEBUG_HEADERS=true\`), HAProxy \`%rc\` (retries) ≠ 0 in a response header, nginx \`$upstream_addr\` in a response header containing the victim's address; an answer from the victim itself counts as tried, and a failed request counts as tried.

## a. The primary refuses connections

${table(["proxy", "requests", "up: median", "up: p99", "refused: median", "refused: p99", "added: median", "added: p99", "tried the dead primary", "answers while refused"], latencyRows("refused"))}

${sizes.latencyN.toLocaleString("en")} GETs from the victim clients at ${sizes.rate}/s with \`${VICTIM}\` up, then the same with \`${VICTIM}\` closed. Added = refused − up, at the median and at p99 (each quantile minus the same quantile with the primary up); the goal tables below count a second added when either is ≥ 1 s.

## b. The primary black-holes

${table(["proxy", "requests", "up: median", "up: p99", "black-holed: median", "black-holed: p99", "added: median", "added: p99", "connections the black hole accepted / requests", "answers while black-holed"], latencyRows("blackhole"))}

A listener on \`${VICTIM}\`'s port accepts every connection and never answers; ${sizes.blackholeN.toLocaleString("en")} GETs from the victim clients at ${sizes.blackholeRate}/s. Every proxy waits its per-try timeout (${tryTimeoutMs} ms) for the response headers. Ours and nginx then retry the next origin; HAProxy's \`retries\` covers failed connections only (\`retry-on\` defaults to \`conn-failure\`), so it answers 504.

## c. From death to the first request that no longer tries it

${table(["proxy", "cycle", "first request not trying it (after death)", "last request that tried it", "victim requests that tried it / sent while dead", "tried after the first that did not", "worst added latency", "p99 added", "requests +≥ 1 s", "errors (all clients)"], detectRows)}

Times are when the request was sent, after the victim's death. Ours learns from its clients first: an isolate reports failures at once and then at most every \`REPORT_INTERVAL_MS\` (1 s), so the fifth consecutive failure (\`EJECT_AFTER_FAILURES\`) reaches the Durable Object with the second report, about a second after the death whatever the traffic, and the reporting isolate refreshes its table at once; the probes (\`HEALTH_FALL\` 3 × 1 s) mark it down later. Added latency is against the median of the victim clients' requests in the 3 s before the death. Errors count every client's failed requests sent from 1 s before the death until the recovery.

What the proxies reported about \`${VICTIM}\` meanwhile, each change with its time (ours: \`/__lb/status\`, polled every 100 ms: the Durable Object's last probe result, and the serving isolate's view of health, ejection and traffic share; HAProxy: \`show stat\`, "UP 2/3" = up, one failed check of the three that take it down):

${timeline || "- (none)"}

## d. From recovery to the return of its clients

${table(["proxy", "cycle", "first victim client served by it again", "all its clients back", "expected bound", "within the bound", "errors (all clients)"], readmitRows)}

Expected bounds from each proxy's settings: ours probe interval × rise = ${probeIntervalMs} ms × ${rise} (the goal's bound). A down origin is probed every \`HEALTH_FAST_INTERVAL_MS\` (${settings.oursHealth.HEALTH_FAST_INTERVAL_MS} ms), so the Durable Object's verdict comes at most ${rise} × ${settings.oursHealth.HEALTH_FAST_INTERVAL_MS} ms after the origin answers again; the isolates route on it from their next snapshot refresh, up to \`SNAPSHOT_TTL_MS\` (${settings.oursHealth.SNAPSHOT_TTL_MS} ms) later, so ours takes up to ${ms(rise * Number(settings.oursHealth.HEALTH_FAST_INTERVAL_MS) + Number(settings.oursHealth.SNAPSHOT_TTL_MS))} (with the defaults: 4 s + 10 s); HAProxy \`inter\` × \`rise\` = 2 s × 2; nginx \`fail_timeout\` = 10 s (it tries a failed server again with one client request once \`fail_timeout\` has passed since the last failure).

## Goals

Goal (issue 5): no client error, no added second, re-admission within the probe interval × rise.

${table(
  ["goal", "met", "detail"],
  goals.map((g) => [g.goal, yes(g.met), g.detail]),
)}

The same tests applied to each proxy (re-admission against our bound, ${probeIntervalMs} ms × ${rise}):

${table(["proxy", "no client error", "refused: added < 1 s", "black-holed: added ≤ per-try timeout, no error", "learning: worst added < 1 s", `re-admission ≤ ${ms(probeIntervalMs * rise)}`], peerRows)}

${readmitNote}A black-holed primary costs our balancer exactly one per-try timeout per request until it is ejected (5 timed-out requests; the probes fail too after \`HEALTH_TIMEOUT_MS\`), which is the bound issue 5 sets for this case: a black hole cannot be told from a slow answer before the timeout fires. "No added second" would hold here only with \`TRY_TIMEOUT_MS\` below 1 s, which would cut off slow but healthy answers; with the default 10 s each such request waits 10 s until the origin is ejected.
${notes.length > 0 ? "\n" + notes.join("\n\n") + "\n" : ""}${peersMeasured ? "" : "\nOnly the proxies listed were measured.\n"}`;
}
