/**
 * `npm run bench:skew`: load and stickiness under skewed traffic (issue 12, item 4). One seeded
 * workload (scripts/bench-skew/workload.ts: ~4,000 ordinary users with Zipf-like rates, a quarter
 * on IPv6 privacy addresses inside their own /64, three NAT addresses carrying 12 %, 6 % and 4 % of
 * all requests with 150 users behind each; every user with its own User-Agent and a browser's
 * cookie jar) goes through the balancer in workerd (this tree, wrangler.toml's defaults), HAProxy
 * `hash-type consistent` on CF-Connecting-IP, and HAProxy with `hash-balance-factor 125`, in front
 * of the same 10 loopback origins that answer after a small fixed delay. Each proxy gets a learning
 * phase (a time; the same seeded stream, as far as it gets) and a measured phase (the same fixed
 * requests for every proxy), `--concurrency` requests in flight throughout, so HAProxy's bound on
 * in-flight requests has something to act on. For the balancer the ring Durable Object's calls
 * are counted over each phase and over a quiet window of low traffic after them. Writes
 * skew.md and skew.json (to bench/ or `--out DIR`; --quick: a fresh temp folder unless `--out`
 * says otherwise); asserts nothing.
 *
 *   npx node scripts/bench-skew.ts [--quick] [--out DIR] [--seed N] [--concurrency N] [--delay MS]
 *     [--learn S] [--requests N] [--quiet S] [--quiet-rate N]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startOrigins } from "./demo-origins.ts";
import { startBalancer, type CallCounts } from "./bench-skew/balancer.ts";
import { jarsFor, runPhase, type Phase } from "./bench-skew/drive.ts";
import { skewFigures, type CallWindow, type SkewFigures } from "./bench-skew/figures.ts";
import { skewGoals, skewReport, skewResult, type SkewRun } from "./bench-skew/report.ts";
import { DEFAULT_WORKLOAD, makeWorkload, requestStream } from "./bench-skew/workload.ts";
import { cleanup, installExitHandlers, onCleanup, tempDir } from "./lib/cleanup.ts";
import { startHaproxy } from "./lib/haproxy.ts";
import { log, seconds } from "./lib/log.ts";
import { writePartResult } from "./lib/part-result.ts";
import { ensureInstalled } from "./lib/proxy-process.ts";
import { BENCH_DIR, writeReport } from "./lib/report.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    seed: { type: "string", default: "20261203" },
    concurrency: { type: "string", default: "32" },
    delay: { type: "string", default: "3" },
    learn: { type: "string" },
    requests: { type: "string" },
    quiet: { type: "string" },
    "quiet-rate": { type: "string", default: "20" },
  },
});
const QUICK = args.quick;
// --quick never writes over the committed results unless --out says so.
const OUT = args.out ?? (QUICK ? fs.mkdtempSync(path.join(os.tmpdir(), "bench-skew-quick-")) : BENCH_DIR);
const SEED = Number(args.seed) >>> 0;
const CONCURRENCY = Number(args.concurrency);
const DELAY_MS = Number(args.delay);
const LEARN_S = Number(args.learn ?? (QUICK ? 8 : 60));
const REQUESTS = Number(args.requests ?? (QUICK ? 6_000 : 60_000));
const QUIET_S = Number(args.quiet ?? (QUICK ? 10 : 30));
const QUIET_RATE = Number(args["quiet-rate"]);
const IDS = Array.from({ length: 10 }, (_, i) => `o${i}`);
if (!(CONCURRENCY >= 1) || !(DELAY_MS >= 0) || !(LEARN_S >= 1) || !(REQUESTS >= 100) || !(QUIET_S >= 1))
  throw new RangeError("--concurrency ≥ 1, --delay ≥ 0, --learn ≥ 1, --requests ≥ 100, --quiet ≥ 1");
if (!(QUIET_RATE > 0)) throw new RangeError("--quiet-rate must be > 0");

/** The seeded streams: learning, measured, quiet. */
const STREAM = { learning: 1, measured: 2, quiet: 3 } as const;

installExitHandlers();
const workload = makeWorkload({ seed: SEED, ...DEFAULT_WORKLOAD });
const results: SkewFigures[] = [];
const calls: CallWindow[] = [];
const notes: string[] = [];

/** Learning then measured phase through `url`, each user with a fresh cookie jar for this proxy. */
async function drive(name: string, url: URL, between?: (phase: string) => Promise<void>) {
  const jars = jarsFor(workload, url);
  const run = (stream: number, o: { count?: number; durationMs?: number; rate?: number; concurrency: number }) =>
    runPhase(url, workload, jars, requestStream(workload, stream), IDS, o);
  const report = (what: string, p: Phase) => {
    const errors = Object.values(p.errors).reduce((a, b) => a + b, 0);
    log(`${name}: ${what}: ${p.users.length} requests in ${seconds(p.ms)}, ${errors} failed`);
  };
  await between?.("start");
  const learning = await run(STREAM.learning, { durationMs: LEARN_S * 1000, concurrency: CONCURRENCY });
  report("learning", learning);
  await between?.("learning");
  const measured = await run(STREAM.measured, { count: REQUESTS, concurrency: CONCURRENCY });
  report("measured", measured);
  await between?.("measured");
  results.push(skewFigures(name, workload, IDS, learning, measured));
  return { jars, run };
}

try {
  const tmp = tempDir("skew");
  const origins = await startOrigins(IDS);
  onCleanup(() => Promise.all(origins.map((o) => o.stop())));
  for (const o of origins) o.setDelay(DELAY_MS);
  // The origins keep every request they saw; this run needs none of them.
  const forget = setInterval(() => origins.forEach((o) => (o.seen.length = 0)), 1_000);
  onCleanup(() => clearInterval(forget));
  log(`origins ${IDS.join(", ")} on 127.0.0.1:${origins.map((o) => o.port).join(", ")}, ${DELAY_MS} ms delay`);

  const balancer = await startBalancer(
    origins.map((o) => ({ id: o.id, url: o.url })),
    tmp,
  );
  log(`balancer at ${balancer.url.href}`);
  const marks: { phase: string; at: number; counts: CallCounts | null }[] = [];
  const mark = async (phase: string) =>
    void marks.push({ phase, at: performance.now(), counts: await balancer.callCounts() });
  const ours = await drive("ours (workerd)", balancer.url, mark);
  // A quiet window: the same balancer at a low, paced rate, to see whether the object's calls follow traffic.
  const quiet = await ours.run(STREAM.quiet, {
    durationMs: QUIET_S * 1000,
    rate: QUIET_RATE,
    concurrency: CONCURRENCY,
  });
  const quietErrors = Object.values(quiet.errors).reduce((a, b) => a + b, 0);
  log(`ours (workerd): quiet window: ${quiet.users.length} requests in ${seconds(quiet.ms)}, ${quietErrors} failed`);
  await mark("quiet");
  const r = results[0]!;
  const requests: Record<string, number> = {
    learning: r.learningRequests,
    measured: r.measuredRequests,
    quiet: quiet.users.length,
  };
  for (let i = 1; i < marks.length; i++) {
    const [a, b] = [marks[i - 1]!, marks[i]!];
    if (a.counts === null || b.counts === null) continue;
    calls.push({
      window: b.phase,
      seconds: (b.at - a.at) / 1000,
      requests: requests[b.phase]!,
      getUpdate: b.counts.getUpdate - a.counts.getUpdate,
      report: b.counts.report - a.counts.report,
      probeRound: b.counts.probeRound - a.counts.probeRound,
    });
  }
  if (calls.length === 0) notes.push("The Durable Object's calls were not counted: `callCounts()` was unavailable.");
  if (quietErrors > 0) notes.push(`The balancer failed ${quietErrors} requests of the quiet window.`);
  await balancer.stop();

  if (ensureInstalled("haproxy", "haproxy")) {
    const addresses = origins.map((o) => ({ id: o.id, port: o.port }));
    for (const [name, backend] of [
      ["HAProxy consistent", []],
      ["HAProxy consistent, hash-balance-factor 125", ["hash-balance-factor 125"]],
    ] as const) {
      const haproxy = await startHaproxy({ origins: addresses, backend });
      log(`${name} at ${haproxy.url.href}`);
      await drive(name, haproxy.url);
      await haproxy.stop();
    }
  } else notes.push("HAProxy was skipped: `apt-get install haproxy` failed.");
} finally {
  await cleanup();
}

const run: SkewRun = {
  command: ["npx node scripts/bench-skew.ts", ...process.argv.slice(2)].join(" "),
  quick: QUICK,
  workload,
  ids: IDS,
  concurrency: CONCURRENCY,
  delayMs: DELAY_MS,
  learnSeconds: LEARN_S,
  requests: REQUESTS,
  quietSeconds: QUIET_S,
  quietRate: QUIET_RATE,
  results,
  calls,
  notes,
};
const goals = skewGoals(run);
await writeReport("skew.md", skewReport(run, goals), OUT);
await writePartResult("skew.json", skewResult(run, goals), OUT);
log(`wrote skew.json to ${OUT}`);
process.exit(0);
