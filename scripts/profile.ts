/**
 * `npm run profile`: where the balancer's CPU goes in workerd. Starts the balancer (built from this
 * tree) and the bench's bare pass-through worker, one after the other, under `wrangler dev` with the
 * V8 inspector, drives each with bench:worker's load generator (the same origins and random client
 * addresses), records a CPU profile of the worker's isolate over the Chrome DevTools Protocol, and
 * prints self time by function and by source file (source-mapped through the bundle's map) by
 * counting samples, and µs of the worker's own JavaScript per request (samples × interval ÷
 * requests) for both, with what that costs on Workers Standard pricing at 1M requests/s. workerd runs
 * on core 1 and this process (load generator, origins) on core 0 when taskset is there. A script,
 * not a test. Writes worker-profile.md and worker-profile.json (for `npm run bench`) to bench/ or
 * --out DIR; --quick writes to a fresh temp dir unless --out is given (never over committed results).
 *
 *   node scripts/profile.ts [--seconds 10] [--warmup 2] [--rounds 6] [--connections 50] [--interval 100]
 *     [--baseline REV] [--quick] [--out DIR]
 *
 * --rounds N: the workers alternate (bare, balancer, balancer, bare…), each round in a fresh `wrangler
 * dev`; a worker's samples and requests are summed over its rounds, and each round's balancer is also
 * read against that round's bare worker (the median and middle half of those ratios). --baseline REV:
 * also the balancer built from that revision, in the same rounds, so a change is read against the
 * code before it under the same conditions. --quick: 1 round of 3 s profiled after 1 s of warm-up per
 * worker (explicit options still win).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { cleanup, installExitHandlers } from "./lib/cleanup.ts";
import { log } from "./lib/log.ts";
import { machineLine, packageVersion } from "./lib/machine.ts";
import { writePartResult } from "./lib/part-result.ts";
import { BENCH_DIR, writeReport } from "./lib/report.ts";
import { summarize } from "./bench-worker/load.ts";
import { balancerOptions, bareOptions, build, checkoutBaseline, pinnedSetup } from "./bench-worker/targets.ts";
import { startDevServer } from "./profile/dev-server.ts";
import { recordProfile } from "./profile/record.ts";
import { profileFigures, profileReport, type ProfiledTarget } from "./profile/report.ts";
import { workerProfileResult } from "./profile/result.ts";
import { mergeSelfTime, selfTime } from "./profile/self-time.ts";
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
const numbers = [
  v.seconds ?? (q ? 3 : 10),
  v.warmup ?? (q ? 1 : 2),
  v.connections ?? 50,
  v.interval ?? 100,
  v.rounds ?? (q ? 1 : 6),
];
const [seconds, warmup, connections, intervalUs, rounds] = numbers.map(Number) as [
  number,
  number,
  number,
  number,
  number,
];
const valid = seconds > 0 && warmup >= 0 && connections >= 1 && intervalUs >= 10 && rounds >= 1;
if (!valid) throw new Error("bad numeric option");
const out = v.out ?? (q ? fs.mkdtempSync(path.join(os.tmpdir(), "profile-quick-")) : BENCH_DIR);
const root = path.resolve(import.meta.dirname, "..");
// bench:worker's generators that run in a thread of this process (wrk would need a Lua script of its own).
const [generator, generatorLabel] = fs.existsSync(path.join(root, "node_modules/autocannon"))
  ? (["autocannon", "autocannon in a worker thread of this process"] as const)
  : (["node:http", "node:http loop in a worker thread of this process (no autocannon)"] as const);
const loadAverage = os.loadavg()[0]!.toFixed(2);
if (Number(loadAverage) > 1) log(`warning: 1-min load average is ${loadAverage}; something else is busy`);

installExitHandlers();
try {
  const { tmp, pinning, origins } = await pinnedSetup("profile");
  log(`origins: ${origins.join(", ")}`);
  const bundle = build("current", root, tmp);
  const current = await balancerOptions(root, bundle, origins);
  bareOptions(tmp, origins, current.compatibilityDate); // writes tmp/bare.js
  fs.writeFileSync(
    path.join(tmp, "bare.toml"),
    `name = "bare"\nmain = "bare.js"\ncompatibility_date = "${current.compatibilityDate}"\n`,
  );
  const list = JSON.stringify(origins.map((url, i) => ({ id: `origin-${i + 1}`, url })));
  const servers: {
    name: string;
    label: string;
    config: string;
    script: string;
    cwd: string;
    vars: Record<string, string>;
  }[] = [
    {
      name: "bare",
      label: "bare pass-through",
      config: path.join(tmp, "bare.toml"),
      script: path.join(tmp, "bare.js"),
      cwd: tmp,
      vars: {},
    },
    {
      name: "current",
      label: "balancer",
      config: path.join(root, "wrangler.toml"),
      script: bundle,
      cwd: root,
      vars: { ORIGINS: list },
    },
  ];
  if (v.baseline !== undefined) {
    const { dir, rev } = checkoutBaseline(root, v.baseline, tmp);
    const script = build("baseline", dir, tmp);
    const config = path.join(dir, "wrangler.toml");
    servers.push({ name: "baseline", label: `balancer at ${rev}`, config, script, cwd: dir, vars: { ORIGINS: list } });
  }
  // Alternating rounds (bare, balancer, balancer, bare…), each worker in a fresh wrangler dev; the
  // samples, requests and CPU of a worker's rounds are summed.
  const recorded = new Map(servers.map((s) => [s.name, [] as Omit<ProfiledTarget, "name" | "label" | "rounds">[]]));
  for (let round = 1; round <= rounds; round++) {
    for (const s of round % 2 === 1 ? servers : [...servers].reverse()) {
      const name = rounds > 1 ? `round ${round}/${rounds} ${s.name}` : s.name;
      const persistTo = path.join(tmp, `${s.name}-${round}-state`);
      const server = await startDevServer({ config: s.config, script: s.script, cwd: s.cwd, vars: s.vars, persistTo });
      try {
        const recording = await recordProfile(name, server, { connections, seconds, warmup, intervalUs, generator });
        const { locate, mapped } = sourceLocator(recording.scripts, root);
        const self = selfTime(recording.profile, locate);
        recorded.get(s.name)!.push({ load: recording.load, self, workerdCpuMs: recording.workerdCpuMs, mapped });
      } finally {
        await server.stop();
      }
    }
  }
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
    command: ["node scripts/profile.ts", ...process.argv.slice(2)].join(" "),
    quick: q,
    machine: machineLine(),
    wrangler: packageVersion("wrangler"),
    workerd: packageVersion("workerd"),
    connections,
    seconds,
    warmup,
    intervalUs,
    rounds,
    generatorLabel,
    pinning: pinning.note,
    loadAverage,
    targets,
  };
  const figures = profileFigures(run);
  await writeReport("worker-profile.md", profileReport(run, figures), out);
  await writePartResult("worker-profile.json", workerProfileResult(run, figures), out);
  log(`written to ${path.join(out, "worker-profile.md")} and worker-profile.json`);
} finally {
  await cleanup();
}
