/** failover.json: the run's settings and figures, each proxy's verdicts and our goals. */
import { machineLine, toolVersion } from "../lib/machine.ts";
import { readmitBound } from "./cycles.ts";
import { round1 } from "./format.ts";
import type { FailoverRun } from "./report.ts";
import { LOAD_RATE } from "./settings.ts";
import { addedMedian, addedP99 } from "./verdicts.ts";

export function failoverResult(run: FailoverRun) {
  const { settings, command, latency, health, configs, verdict, goals, notes } = run;
  return {
    machine: machineLine(),
    haproxy: toolVersion("haproxy", "-v"),
    nginx: toolVersion("nginx", "-v"),
    command,
    quick: settings.quick,
    seed: settings.seed,
    tryTimeoutMs: settings.tryTimeoutMs,
    settings: {
      oursNoLearning: settings.oursNoLearning,
      oursHealth: settings.oursHealth,
      haproxy: configs.haproxy,
      nginx: configs.nginx,
      loadRatePerProxy: LOAD_RATE,
      deadMs: settings.sizes.deadMs,
      cycles: settings.sizes.cycles,
    },
    latency: latency.map((l) => ({
      proxy: l.name,
      requests: l.requests,
      upMedianMs: round1(l.upMedian),
      upP99Ms: round1(l.upP99),
      refusedMedianMs: round1(l.refusedMedian),
      refusedP99Ms: round1(l.refusedP99),
      refusedAddedMedianMs: round1(addedMedian(l, "refused")),
      refusedAddedP99Ms: round1(addedP99(l, "refused")),
      refusedTriedDeadPrimary: l.refusedTried,
      refusedErrors: l.refusedErrors,
      blackholeRequests: l.blackholeRequests,
      blackholeMedianMs: round1(l.blackholeMedian),
      blackholeP99Ms: round1(l.blackholeP99),
      blackholeAddedMedianMs: round1(addedMedian(l, "blackhole")),
      blackholeAddedP99Ms: round1(addedP99(l, "blackhole")),
      blackholeConnections: l.blackholeConnections,
      blackholeErrors: l.blackholeErrors,
    })),
    deathAndRecovery: health.map((h) => ({
      proxy: h.name,
      victimClients: h.victims,
      readmitBoundMs: readmitBound(h.kind, settings),
      cycles: h.cycles.map((c) => ({
        detectMs: round1(c.detectMs),
        lastTriedMs: round1(c.lastTriedMs),
        triedRequests: c.triedRequests,
        deadRequests: c.deadRequests,
        triedAfterDetect: c.triedAfterDetect,
        baselineMedianMs: round1(c.baselineMedian),
        maxAddedMs: round1(c.maxAddedMs),
        p99AddedMs: round1(c.p99AddedMs),
        requestsAddedOverOneSecond: c.slowRequests,
        errorsWhileDead: c.errorsDead,
        readmitMs: round1(c.readmitMs),
        allBackMs: round1(c.allBackMs),
        errorsAfterRecovery: c.errorsRecovery,
        events: c.events,
      })),
    })),
    verdicts: Object.fromEntries(latency.map((l) => [l.name, verdict(l.name)])),
    goals,
    notes,
  };
}
