/**
 * `npm run profile:alloc`: what the balancer allocates per request in workerd, against the bare
 * pass-through. Starts the workers as `npm run profile` does (servers.ts, under `wrangler dev` with
 * the V8 inspector), drives each with bench:worker's load generator, records V8's sampling heap
 * profile of the worker's isolate over the measured requests (allocations.ts), and prints bytes
 * allocated per request by source file and by function. Every byte allocated brings the next
 * scavenge nearer, and each scavenge stops the isolate (and every request in it) for a while: the
 * figure that ties the request path to the tail. A script, not a test. Writes worker-allocations.md
 * and worker-allocations.json (for `npm run bench`) to bench/ or --out DIR; --quick writes to a fresh
 * temp dir unless --out is given.
 *
 *   node scripts/profile-alloc.ts [--seconds 10] [--warmup 2] [--rounds 2] [--connections 50]
 *     [--interval 1024] [--baseline REV] [--quick] [--out DIR]
 *
 * --interval: the mean bytes between two samples (V8's default is 32768; smaller is finer and slower).
 * --baseline REV: also the balancer built from that revision, in the same rounds.
 */
import path from "node:path";
import { cleanup, installExitHandlers } from "./lib/cleanup.ts";
import { log } from "./lib/log.ts";
import { writePartResult } from "./lib/part-result.ts";
import { writeReport } from "./lib/report.ts";
import { summarize } from "./bench-worker/load.ts";
import { pinnedSetup } from "./bench-worker/targets.ts";
import { allocationReport, allocationTables } from "./profile/alloc-report.ts";
import { allocations, heapSampler, mergeAllocations } from "./profile/allocations.ts";
import { recordProfile } from "./profile/record.ts";
import { profileRounds } from "./profile/rounds.ts";
import { profiledServers } from "./profile/servers.ts";
import { sourceLocator } from "./profile/source-map.ts";
import { profileOptions, profileSettings } from "./profile/options.ts";

const o = profileOptions("profile-alloc", { interval: 1024, minInterval: 16, rounds: 2 });
const { seconds, warmup, connections, rounds, root, out, generator, generatorLabel, loadAverage } = o;
const intervalBytes = o.interval;
if (o.apart) throw new Error("--apart: profile:alloc always runs the workers one after the other");

installExitHandlers();
try {
  const { tmp, pinning, origins } = await pinnedSetup("profile-alloc");
  const servers = await profiledServers(root, tmp, origins, o.baseline);
  const recorded = await profileRounds({
    servers,
    rounds,
    together: false,
    tmp,
    record: async (name, server) => {
      const load = { connections, seconds, warmup, generator };
      const recording = await recordProfile(name, server, load, heapSampler(intervalBytes));
      const { locate } = sourceLocator(recording.scripts, root);
      const a = allocations(recording.profile, locate);
      log(`${name}: ${(a.bytes / recording.load.requests).toFixed(0)} bytes allocated per request`);
      return { load: recording.load, allocations: a };
    },
  });
  const run = {
    ...profileSettings("scripts/profile-alloc.ts", o, pinning.note),
    intervalBytes,
    targets: servers.map((s) => {
      const parts = recorded.get(s.name)!;
      const load = summarize(parts.map((p) => p.load));
      return { name: s.name, label: s.label, load, allocations: mergeAllocations(parts.map((p) => p.allocations)) };
    }),
  };
  await writeReport("worker-allocations.md", allocationReport(run), out);
  // No goal of its own: the figures explain the CPU and latency goals of 3b and 3c.
  const result = {
    command: run.command,
    quick: run.quick,
    machine: run.machine,
    goals: [],
    tables: allocationTables(run),
  };
  await writePartResult("worker-allocations.json", result, out);
  log(`written to ${path.join(out, "worker-allocations.md")} and worker-allocations.json`);
} finally {
  await cleanup();
}
