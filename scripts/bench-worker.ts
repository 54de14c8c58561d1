/**
 * Req/s and latency of the balancer in workerd (Miniflare) against a bare pass-through worker (the
 * runtime's floor), measured in pairs at the same time: each worker of a pair in its own fresh
 * Miniflare (its own workerd process), both loaded together by two load generators, both workerd
 * processes pinned to core 1 and this process (load generators, origins) to core 0 (`taskset`; without
 * it nothing is pinned and the report says so). Every round runs each pair once, in alternating order:
 * balancer vs bare, and bare vs bare (the control, printed beside the result: what the machine cannot
 * resolve); with --baseline <rev> also the balancer built from that revision vs bare. Ratios are the
 * median and middle half over the rounds. Every request carries a fresh random client address (IPv4
 * in 198.18.0.0/15 or an IPv6 /64 in 2001:db8::/32). The Durable Object's calls are counted
 * (`callCounts()`) before and after each measured run. A script, not a test. Writes
 * worker-throughput.md and worker-throughput.json (figures and goal verdicts, for `npm run bench`) to
 * bench/ or --out DIR (--quick: a fresh temp dir unless --out is given).
 *
 *   node scripts/bench-worker.ts [--baseline <rev>] [--seconds 6] [--connections 50] [--warmup 2] [--rounds 8]
 *     [--rate <req/s>] [--var NAME=value ...] [--quick] [--out DIR]
 *
 * --rate: each worker gets that many requests/s on a fixed schedule (an open loop, open-loop.ts)
 * instead of a closed loop of --connections, in rounds of 10 s unless --seconds, and the report is
 * worker-latency.md/.json: latency at a load both workers serve. A closed loop saturates the worker, and its latency is then mostly the
 * queue (p50 ≈ connections ÷ req/s). Pick a rate well below what worker-throughput.md shows per worker.
 *
 * --var: a setting for the balancer built from this tree (not the baseline's), e.g.
 * `--var FORWARD_HEADERS=x-forwarded-for --baseline HEAD` measures what a setting costs.
 *
 * --quick: 2 rounds of 2 s after 1 s of warm-up (explicit options still win).
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { cleanup } from "./lib/cleanup.ts";
import { log } from "./lib/log.ts";
import { machineLine } from "./lib/machine.ts";
import { writePartResult } from "./lib/part-result.ts";
import { BENCH_DIR, writeReport } from "./lib/report.ts";
import type { Generator } from "./bench-worker/load.ts";
import { PAIRS, throughputFigures, throughputReport } from "./bench-worker/report.ts";
import { workerThroughputResult } from "./bench-worker/result.ts";
import { parseRate } from "./bench-worker/open-loop.ts";
import { runPairs, type Pair } from "./bench-worker/rounds.ts";
import { balancerOptions, bareOptions, build, checkoutBaseline, pinnedSetup } from "./bench-worker/targets.ts";

const str = { type: "string" } as const;
const { values: v } = parseArgs({
  options: {
    baseline: str,
    seconds: str,
    connections: str,
    warmup: str,
    rounds: str,
    rate: str,
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    var: { type: "string", multiple: true },
  },
});
const vars: Record<string, string> = {};
for (const item of v.var ?? []) {
  const eq = item.indexOf("=");
  if (eq <= 0) throw new Error(`--var wants NAME=value (got ${JSON.stringify(item)})`);
  vars[item.slice(0, eq)] = item.slice(eq + 1);
}
const q = v.quick;
// --quick never writes over the committed results unless --out says so.
const out = v.out ?? (q ? fs.mkdtempSync(path.join(os.tmpdir(), "bench-worker-quick-")) : BENCH_DIR);
const rate = parseRate(v.rate);
// At a fixed rate a round is longer, so that its p99 rests on more requests (10 s at 150 req/s: 15 per point).
const numbers = [
  v.seconds ?? (q ? 2 : rate ? 10 : 6),
  v.connections ?? 50,
  v.warmup ?? (q ? 1 : 2),
  v.rounds ?? (q ? 2 : 8),
];
const [seconds, connections, warmup, rounds] = numbers.map(Number) as [number, number, number, number];
if (!(seconds > 0 && connections >= 1 && warmup >= 0 && rounds >= 1)) throw new Error("bad numeric option");
// At a fixed rate the figures are latencies, in their own report beside the throughput's.
const reportName = rate === undefined ? "worker-throughput" : "worker-latency";
const root = path.resolve(import.meta.dirname, "..");
const miniflarePkg = JSON.parse(fs.readFileSync(path.join(root, "node_modules/miniflare/package.json"), "utf8"));
const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
const [generator, generatorLabel]: [Generator, string] =
  rate !== undefined
    ? ["node:http", "node:http in a worker thread of this process"]
    : fs.existsSync(path.join(root, "node_modules/autocannon"))
      ? ["autocannon", "autocannon in a worker thread of this process"]
      : spawnSync("sh", ["-c", "command -v wrk"]).status === 0
        ? ["wrk", "wrk (2 threads, its own process)"]
        : ["node:http", "node:http loop in a worker thread of this process (no autocannon/wrk)"];
const loadAverage = os.loadavg()[0]!.toFixed(2); // others' test runs on this machine skew the numbers
if (Number(loadAverage) > 1) log(`warning: 1-min load average is ${loadAverage}; something else is busy`);

process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
try {
  const { tmp, pinning, origins } = await pinnedSetup("worker");
  log(`origins: ${origins.join(", ")}`);
  const current = await balancerOptions(root, build("current", root, tmp), origins, vars);
  const bare = { name: "bare", options: bareOptions(tmp, origins, current.compatibilityDate) };
  const pairs: Pair[] = [
    { name: PAIRS.balancer.name, a: { name: "current", options: current }, b: bare },
    { name: PAIRS.control.name, a: bare, b: bare },
  ];
  const dirty = git("status", "--porcelain", "--", "src", "wrangler.toml") !== "";
  const settings = Object.entries(vars).map(([name, value]) => `${name}=${value}`);
  const revs = [
    `current = ${git("rev-parse", "--short", "HEAD")}${dirty ? " + uncommitted changes" : ""}` +
      (settings.length > 0 ? ` with ${settings.join(", ")}` : ""),
  ];
  if (v.baseline !== undefined) {
    const { dir, rev } = checkoutBaseline(root, v.baseline, tmp);
    revs.push(`baseline = ${v.baseline} (${rev})`);
    const baseline = { name: "baseline", options: await balancerOptions(dir, build("baseline", dir, tmp), origins) };
    pairs.push({ name: PAIRS.baseline.name, a: baseline, b: bare });
  }

  const { runs, calls } = await runPairs(pairs, { rounds, seconds, warmup, connections, rate, generator, tmp });
  const run = {
    command: ["node scripts/bench-worker.ts", ...process.argv.slice(2)].join(" "),
    quick: q,
    generator,
    generatorLabel,
    connections,
    rate,
    seconds,
    warmup,
    rounds,
    ttlMs: Number((current.bindings as Record<string, unknown>).SNAPSHOT_TTL_MS ?? 10_000),
    revs,
    miniflare: { version: miniflarePkg.version, workerd: miniflarePkg.dependencies?.workerd ?? "?" },
    loadAverage,
    machine: machineLine(),
    pinning: pinning.note,
    runs,
    calls,
  };
  const figures = throughputFigures(run);
  // Formatted as prettier would, so `prettier --check .` (npm test) accepts the file.
  await writeReport(`${reportName}.md`, throughputReport(run, figures), out);
  await writePartResult(`${reportName}.json`, workerThroughputResult(run, figures), out);
  log(`written to ${path.join(out, `${reportName}.md`)} and ${reportName}.json`);
} finally {
  await cleanup();
}
