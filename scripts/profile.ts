/**
 * `npm run profile`: where the balancer's CPU goes in workerd. Starts the balancer (built from this
 * tree), the bench's bare pass-through worker and a second bare worker (the control), each under its
 * own `wrangler dev` with the V8 inspector, drives all of them at the same time with bench:worker's
 * load generator (the same origins and random client addresses; their warm-ups start together, and
 * every workerd shares one core), records a CPU profile of each worker's isolate over the Chrome
 * DevTools Protocol, and
 * prints self time by function and by source file (source-mapped through the bundle's map) by
 * counting samples, and µs of the worker's own JavaScript per request (samples × interval ÷
 * requests) for both, with what that costs on Workers Standard pricing at 1M requests/s. workerd runs
 * on core 1 and this process (load generator, origins) on core 0 when taskset is there. A script,
 * not a test. Writes worker-profile.md and worker-profile.json (for `npm run bench`) to bench/ or
 * --out DIR; --quick writes to a fresh temp dir unless --out is given (never over committed results).
 *
 *   node scripts/profile.ts [--seconds 10] [--warmup 2] [--rounds 6] [--connections 50] [--interval 100]
 *     [--baseline REV] [--apart] [--quick] [--out DIR]
 *
 * --rounds N: each round in fresh `wrangler dev`s; a worker's samples and requests are summed over
 * its rounds, and each round's balancer (and control) is also read against that round's bare worker
 * (the median and middle half of those ratios): measured at the same time, a slow spell of this
 * shared machine moves both. --apart: the method before 2026-12-04, without the control: the workers
 * one after the other, alternating (bare, balancer, balancer, bare…). --baseline REV:
 * also the balancer built from that revision, in the same rounds, so a change is read against the
 * code before it under the same conditions. --quick: 1 round of 3 s profiled after 1 s of warm-up per
 * worker (explicit options still win).
 */
import path from "node:path";
import { cleanup, installExitHandlers } from "./lib/cleanup.ts";
import { log } from "./lib/log.ts";
import { writePartResult } from "./lib/part-result.ts";
import { writeReport } from "./lib/report.ts";
import { summarize } from "./bench-worker/load.ts";
import { pinnedSetup } from "./bench-worker/targets.ts";
import { cpuSampler, recordProfile } from "./profile/record.ts";
import { profileFigures, profileReport, type ProfiledTarget } from "./profile/report.ts";
import { workerProfileResult } from "./profile/result.ts";
import { profileRounds } from "./profile/rounds.ts";
import { profiledServers } from "./profile/servers.ts";
import { mergeSelfTime, selfTime } from "./profile/self-time.ts";
import { sourceLocator } from "./profile/source-map.ts";
import { profileOptions, profileSettings } from "./profile/options.ts";

const o = profileOptions("profile", { interval: 100, minInterval: 10, rounds: 6 });
const { seconds, warmup, connections, rounds, root, out, generator, generatorLabel, loadAverage } = o;
const intervalUs = o.interval;

installExitHandlers();
try {
  const { tmp, pinning, origins } = await pinnedSetup("profile");
  log(`origins: ${origins.join(", ")}`);
  const servers = await profiledServers(root, tmp, origins, o.baseline, !o.apart);
  // Each worker's samples, requests and CPU, round by round (summed below).
  const recorded = await profileRounds({
    servers,
    rounds,
    together: !o.apart,
    tmp,
    record: async (name, server, startAt) => {
      const load = { connections, seconds, warmup, generator, startAt };
      const recording = await recordProfile(name, server, load, cpuSampler(intervalUs));
      log(`${name}: ${recording.profile.samples.length.toLocaleString("en")} samples`);
      const { locate, mapped } = sourceLocator(recording.scripts, root);
      const self = selfTime(recording.profile, locate);
      return { load: recording.load, self, workerdCpuMs: recording.workerdCpuMs, mapped };
    },
  });
  const targets: ProfiledTarget[] = servers.map((s) => {
    const parts = recorded.get(s.name)!;
    return {
      name: s.name,
      label: s.label,
      load: summarize(parts.map((p) => p.load)),
      self: mergeSelfTime(parts.map((p) => p.self)),
      workerdCpuMs: parts.reduce((sum, p) => sum + p.workerdCpuMs, 0),
      mapped: [...new Set(parts.flatMap((p) => p.mapped))],
      rounds: parts.map((p) => ({ requests: p.load.requests, js: p.self.js })),
    };
  });
  const run = {
    ...profileSettings("scripts/profile.ts", o, pinning.note),
    intervalUs,
    together: !o.apart,
    targets,
  };
  const figures = profileFigures(run);
  await writeReport("worker-profile.md", profileReport(run, figures), out);
  await writePartResult("worker-profile.json", workerProfileResult(run, figures), out);
  log(`written to ${path.join(out, "worker-profile.md")} and worker-profile.json`);
} finally {
  await cleanup();
}
