/**
 * `npm run profile:alloc`: what the balancer allocates per request in workerd, against the bare
 * pass-through. Starts the workers as `npm run profile` does (servers.ts, under `wrangler dev` with
 * the V8 inspector), drives each with bench:worker's load generator, records V8's sampling heap
 * profile of the worker's isolate over the measured requests (allocations.ts), and prints bytes
 * allocated per request by source file and by function. Every byte allocated brings the next
 * scavenge nearer, and each scavenge stops the isolate (and every request in it) for a while: the
 * figure that ties the request path to the tail. A script, not a test. Writes worker-allocations.md
 * to bench/ or --out DIR; --quick writes to a fresh temp dir unless --out is given.
 *
 *   node scripts/profile-alloc.ts [--seconds 10] [--warmup 2] [--rounds 2] [--connections 50]
 *     [--interval 1024] [--baseline REV] [--quick] [--out DIR]
 *
 * --interval: the mean bytes between two samples (V8's default is 32768; smaller is finer and slower).
 * --baseline REV: also the balancer built from that revision, in the same rounds.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { cleanup, installExitHandlers } from "./lib/cleanup.ts";
import { log } from "./lib/log.ts";
import { machineLine, packageVersion } from "./lib/machine.ts";
import { BENCH_DIR, writeReport } from "./lib/report.ts";
import { summarize, type Result } from "./bench-worker/load.ts";
import { pinnedSetup } from "./bench-worker/targets.ts";
import { allocationReport } from "./profile/alloc-report.ts";
import { allocations, heapSampler, mergeAllocations, type Allocations } from "./profile/allocations.ts";
import { startDevServer } from "./profile/dev-server.ts";
import { recordProfile } from "./profile/record.ts";
import { profiledServers } from "./profile/servers.ts";
import { sourceLocator } from "./profile/source-map.ts";

const str = { type: "string" } as const;
const { values: v } = parseArgs({
  options: {
    seconds: str,
    warmup: str,
    connections: str,
    interval: str,
    rounds: str,
    baseline: str,
    quick: { type: "boolean", default: false },
    out: str,
  },
});
const q = v.quick;
const [seconds, warmup, connections, intervalBytes, rounds] = [
  v.seconds ?? (q ? 3 : 10),
  v.warmup ?? (q ? 1 : 2),
  v.connections ?? 50,
  v.interval ?? 1024,
  v.rounds ?? (q ? 1 : 2),
].map(Number) as [number, number, number, number, number];
if (!(seconds > 0 && warmup >= 0 && connections >= 1 && intervalBytes >= 16 && rounds >= 1)) {
  throw new Error("bad numeric option");
}
const out = v.out ?? (q ? fs.mkdtempSync(path.join(os.tmpdir(), "profile-alloc-quick-")) : BENCH_DIR);
const root = path.resolve(import.meta.dirname, "..");
const [generator, generatorLabel] = fs.existsSync(path.join(root, "node_modules/autocannon"))
  ? (["autocannon", "autocannon in a worker thread of this process"] as const)
  : (["node:http", "node:http loop in a worker thread of this process (no autocannon)"] as const);
const loadAverage = os.loadavg()[0]!.toFixed(2);

installExitHandlers();
try {
  const { tmp, pinning, origins } = await pinnedSetup("profile-alloc");
  const servers = await profiledServers(root, tmp, origins, v.baseline);
  const recorded = new Map(servers.map((s) => [s.name, [] as { load: Result; allocations: Allocations }[]]));
  for (let round = 1; round <= rounds; round++) {
    for (const s of round % 2 === 1 ? servers : [...servers].reverse()) {
      const name = rounds > 1 ? `round ${round}/${rounds} ${s.name}` : s.name;
      const persistTo = path.join(tmp, `${s.name}-${round}-state`);
      const server = await startDevServer({ config: s.config, script: s.script, cwd: s.cwd, vars: s.vars, persistTo });
      try {
        const load = { connections, seconds, warmup, generator };
        const recording = await recordProfile(name, server, load, heapSampler(intervalBytes));
        const { locate } = sourceLocator(recording.scripts, root);
        const a = allocations(recording.profile, locate);
        log(`${name}: ${(a.bytes / recording.load.requests).toFixed(0)} bytes allocated per request`);
        recorded.get(s.name)!.push({ load: recording.load, allocations: a });
      } finally {
        await server.stop();
      }
    }
  }
  const run = {
    machine: machineLine(),
    wrangler: packageVersion("wrangler"),
    workerd: packageVersion("workerd"),
    connections,
    seconds,
    warmup,
    intervalBytes,
    rounds,
    generatorLabel,
    pinning: pinning.note,
    loadAverage,
    targets: servers.map((s) => {
      const parts = recorded.get(s.name)!;
      const load = summarize(parts.map((p) => p.load));
      return { name: s.name, label: s.label, load, allocations: mergeAllocations(parts.map((p) => p.allocations)) };
    }),
  };
  await writeReport("worker-allocations.md", allocationReport(run), out);
  log(`written to ${path.join(out, "worker-allocations.md")}`);
} finally {
  await cleanup();
}
