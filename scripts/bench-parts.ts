/**
 * What each part of a proxy costs in workerd: variants of bench:worker's bare pass-through worker,
 * each adding one thing the balancer does on every request (a copied header set, the headers it
 * adds, the per-try timer and abort signal, a header pass, a rebuilt response), measured against
 * the bare worker with bench:worker's method (both at the same time, pinned to one core, alternating
 * rounds, a bare-vs-bare control beside). The figures behind the request path's defaults (README
 * "Benchmarks"). A script, not a test. Writes worker-parts.md to bench/ or --out DIR.
 *
 *   node scripts/bench-parts.ts [--only name,name] [--seconds 4] [--warmup 1] [--rounds 3] [--connections 50]
 *     [--rate <req/s>] [--out DIR]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { cleanup } from "./lib/cleanup.ts";
import { machineLine } from "./lib/machine.ts";
import { table } from "./lib/markdown.ts";
import { BENCH_DIR, writeReport } from "./lib/report.ts";
import { quantile } from "./lib/stats.ts";
import { PARTS } from "./bench-parts/variants.ts";
import { parseRate } from "./bench-worker/open-loop.ts";
import { runPairs, type Pair } from "./bench-worker/rounds.ts";
import { pinnedSetup } from "./bench-worker/targets.ts";

const str = { type: "string" } as const;
const { values: v } = parseArgs({
  options: { only: str, seconds: str, warmup: str, rounds: str, connections: str, rate: str, out: str },
});
// --rate: each worker gets that many requests/s on a fixed schedule (bench:worker's open loop)
// instead of the closed loop that saturates it; the report is then worker-parts-rate<R>.md.
const rate = parseRate(v.rate);
const [seconds, warmup, rounds, connections] = [v.seconds ?? 4, v.warmup ?? 1, v.rounds ?? 3, v.connections ?? 50].map(
  Number,
) as [number, number, number, number];
if (!(seconds > 0 && warmup >= 0 && rounds >= 1 && connections >= 1)) throw new Error("bad numeric option");
const only = v.only?.split(",").map((s) => s.trim());
const unknown = only?.filter((name) => !PARTS.some((p) => p.name === name)) ?? [];
if (unknown.length > 0) throw new Error(`unknown part(s): ${unknown.join(", ")}; known: ${PARTS.map((p) => p.name)}`);
const parts = PARTS.filter((p) => p.name !== "bare" && (only === undefined || only.includes(p.name)));
const out = v.out ?? BENCH_DIR;
const loadAverage = os.loadavg()[0]!.toFixed(2);

process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
try {
  const { tmp, pinning, origins } = await pinnedSetup("parts");
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { compatibilityDate } = unstable_getMiniflareWorkerOptions(
    path.resolve(import.meta.dirname, "../wrangler.toml"),
  ).workerOptions as { compatibilityDate: string };
  const target = (name: string, body: string) => {
    const file = path.join(tmp, `${name}.js`);
    fs.writeFileSync(file, workerSource(origins, body));
    return { name, options: { modules: true, modulesRoot: tmp, scriptPath: file, compatibilityDate } };
  };
  const bare = target("bare", PARTS.find((p) => p.name === "bare")!.body);
  const pairs: Pair[] = [
    { name: "control", a: bare, b: bare },
    ...parts.map((p) => ({ name: p.name, a: target(p.name, p.body), b: bare })),
  ];
  const { runs } = await runPairs(pairs, { rounds, seconds, warmup, connections, rate, generator: "node:http", tmp });
  const rows = pairs.map((pair) => {
    const mine = runs.filter((r) => r.pair === pair.name);
    const ratios = mine.map((r) => r.a.rps / r.b.rps);
    const [median, low, high] = [0.5, 0.25, 0.75].map((q) => quantile(ratios, q)) as [number, number, number];
    // The tail too: a part can cost little throughput and still lengthen the slowest requests.
    const tails = mine.map((r) => r.a.p99 / r.b.p99);
    const [p99, p99Low, p99High] = [0.5, 0.25, 0.75].map((q) => quantile(tails, q)) as [number, number, number];
    const what =
      pair.name === "control" ? "the bare worker against itself" : PARTS.find((p) => p.name === pair.name)!.what;
    return [
      pair.name,
      what,
      `×${median.toFixed(3)}`,
      `${low.toFixed(3)}–${high.toFixed(3)}`,
      `${((1 - median) * 100).toFixed(1)} %`,
      `×${p99.toFixed(3)}`,
      `${p99Low.toFixed(3)}–${p99High.toFixed(3)}`,
    ];
  });
  const text = [
    "# What each part of a proxy costs in workerd",
    "",
    `Machine: ${machineLine()}. Each variant is bench:worker's bare pass-through worker plus one part of what the ` +
      `balancer does per request, measured at the same time as the bare worker (${rounds} rounds of ${seconds} s ` +
      `after ${warmup} s warm-up, alternating order, ` +
      (rate === undefined
        ? `a closed loop of ${connections} connections each`
        : `an open loop of ${rate} requests/s each on a fixed schedule (bench:worker --rate)`) +
      `, GET from a fresh random ` +
      `CF-Connecting-IP). Pinning: ${pinning.note}. 1-min load average at start: ${loadAverage}. ` +
      `Command: \`node scripts/bench-parts.ts ${process.argv.slice(2).join(" ")}\`. ${new Date().toISOString()}`,
    "",
    table(
      [
        "variant",
        "adds to the bare worker",
        "req/s vs bare",
        "middle half",
        "throughput lost",
        "p99 vs bare",
        "middle half",
      ],
      rows,
    ),
    "",
    "The control's distance from ×1 is what this machine cannot resolve. The variants' code is in " +
      "scripts/bench-parts/variants.ts.",
  ].join("\n");
  await writeReport(rate === undefined ? "worker-parts.md" : `worker-parts-rate${rate}.md`, `${text}\n`, out);
} finally {
  await cleanup();
}

/** A bare worker (the same string hash % 3 as bench:worker's) whose proxying is `body`. */
function workerSource(origins: readonly string[], body: string): string {
  return (
    `const ORIGINS = ${JSON.stringify(origins)};\n` +
    `export default { async fetch(req) { const ip = req.headers.get("cf-connecting-ip") ?? ""; let h = 0;\n` +
    `  for (let i = 0; i < ip.length; i++) h = (h * 31 + ip.charCodeAt(i)) | 0;\n` +
    `  const u = new URL(req.url); const target = ORIGINS[(h >>> 0) % ORIGINS.length] + u.pathname + u.search;\n` +
    `${body}\n} };\n`
  );
}
