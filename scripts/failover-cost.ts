/**
 * Failover cost (issue 5, "Measure" item 4): what a client pays when its origin fails, through our
 * balancer (the dist/ bundle in workerd via Miniflare), HAProxy 2.6 and nginx 1.22, all in front
 * of the same ten loopback origins and sent the same seeded clients.
 *
 *   a. the added latency of a request whose primary refuses connections (its process closed),
 *      against the same request with the primary up;
 *   b. the added latency when the primary black-holes (accepts TCP, never answers);
 *   c. the time from an origin's death to the first request that no longer tries it, and the
 *      errors and delays clients saw meanwhile;
 *   d. the time from its recovery to the first request it serves again (its clients' return).
 *
 * a and b run with each proxy's learning switched off (no probes, no passive ejection), so every
 * request pays what a request pays before the proxy has learnt; c and d run all three proxies at
 * once with health checking on, through the same deaths and recoveries. Prints progress, writes
 * failover.md and failover.json (to bench/ or `--out DIR`), asserts nothing.
 *
 *   npx node scripts/failover-cost.ts [--quick] [--out DIR] [--try-timeout MS] [--seed N]
 */
import { parseArgs } from "node:util";
import { cleanup, installExitHandlers } from "./lib/cleanup.ts";
import { log, sleep } from "./lib/log.ts";
import { writePartResult } from "./lib/part-result.ts";
import { ensureInstalled } from "./lib/proxy-process.ts";
import { ipv4Clients } from "./lib/random.ts";
import { BENCH_DIR, writeReport } from "./lib/report.ts";
import { buildWorker } from "./lib/wrangler.ts";
import { runCycles, type HealthResult } from "./failover-cost/cycles.ts";
import { measureLatency, type LatencyResult } from "./failover-cost/latency.ts";
import { startFailoverOrigins } from "./failover-cost/origins.ts";
import { failoverReport } from "./failover-cost/report.ts";
import { failoverResult } from "./failover-cost/result.ts";
import { failoverSettings, IDS, VICTIM } from "./failover-cost/settings.ts";
import { findVictims, noConfigs, targetStarters, type Target } from "./failover-cost/targets.ts";
import { judge } from "./failover-cost/verdicts.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string", default: BENCH_DIR },
    seed: { type: "string", default: "20261122" },
    "try-timeout": { type: "string", default: "1000" },
  },
});
const settings = failoverSettings(args);

installExitHandlers();
const candidates = ipv4Clients(settings.sizes.candidates, settings.seed);
const notes: string[] = [];
const latency: LatencyResult[] = [];
let health: HealthResult[] = [];
let peersMeasured = true;
const configs = noConfigs();

try {
  buildWorker();
  const origins = await startFailoverOrigins();
  const start = targetStarters(origins, settings, configs);
  log(`origins ${IDS.join(", ")} on 127.0.0.1:${origins.list.map((o) => o.port).join(", ")}; the victim is ${VICTIM}`);
  const haproxy = ensureInstalled("haproxy", "haproxy");
  const nginx = ensureInstalled("nginx", "nginx");
  if (!haproxy) notes.push("HAProxy was not measured: `apt-get install haproxy` failed.");
  if (!nginx) notes.push("nginx was not measured: `apt-get install nginx` failed.");
  peersMeasured = haproxy && nginx;

  // a and b, one proxy at a time, learning off.
  const starters: (() => Promise<Target>)[] = [() => start.startOurs(settings.oursNoLearning)];
  if (haproxy) starters.push(() => start.startHaproxyTarget(false));
  if (nginx) starters.push(() => start.startNginxTarget(false));
  for (const startTarget of starters) {
    const t = await startTarget();
    log(`${t.name} (learning off) at ${t.url.href}`);
    try {
      latency.push(await measureLatency(t, origins, candidates, settings));
    } finally {
      await t.stop();
    }
  }

  // c and d, all proxies at once, learning on.
  const targets: Target[] = [await start.startOurs(settings.oursHealth)];
  if (haproxy) targets.push(await start.startHaproxyTarget(true));
  if (nginx) targets.push(await start.startNginxTarget(true));
  for (const t of targets) await findVictims(t, candidates);
  await sleep(3 * settings.probeIntervalMs); // ours: a few probe rounds, every origin up
  health = await runCycles(targets, origins, settings);
} finally {
  await cleanup();
}

const command = ["npx node scripts/failover-cost.ts", ...process.argv.slice(2)].join(" ");
const { verdict, goals, oursHealth } = judge(latency, health, settings);
const run = { settings, command, latency, health, configs, verdict, goals, oursHealth, notes, peersMeasured };
const outDir = args.out;
await writeReport("failover.md", failoverReport(run), outDir);
await writePartResult("failover.json", failoverResult(run), outDir);
log(`wrote failover.json to ${outDir}`);
process.exit(0);
