/**
 * `npm run bench`: every measurement of issue 5 in one run, one part after another, each a child
 * process (`node <script> --out DIR [--quick]`), then BENCHMARKS.md (the machine, the command, one
 * section per item with its figures and each goal met or missed) and SVG charts from the parts'
 * JSON. A script, not a test: it asserts nothing about time. It exits non-zero when a part crashed
 * (after running the others), so CI notices a broken bench.
 *
 *   node scripts/bench.ts [--quick] [--out DIR] [--only ring-cost,scale-model,...]
 *
 * Full run: BENCHMARKS.md in the repository root, the parts' reports and charts in bench/.
 * --quick: small sizes, written to a fresh temp directory unless --out says otherwise, so a quick
 * run never overwrites the committed results. --out DIR: DIR/BENCHMARKS.md and DIR/bench/.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import * as prettier from "prettier";
import { table } from "./report.ts";
import { barChart, type BarChart } from "./svg.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

/** One measurement: the issue-5 item it answers, its script and what it writes. */
interface Part {
  readonly id: string;
  readonly title: string;
  readonly script: string;
  readonly json: string;
  readonly about: string;
}
const PARTS: readonly Part[] = [
  {
    id: "ring-cost",
    title: "1. Ring cost",
    script: "scripts/ring-cost.ts",
    json: "ring-cost.json",
    about:
      "The pure core in plain Node: one lookup (client key parse + xxHash32 + ring walk), ring build time, memory.",
  },
  {
    id: "ring-quality",
    title: "2a. Mapping quality by simulation",
    script: "scripts/ring-quality.ts",
    json: "ring-quality.json",
    about:
      "One seeded client set (IPv4 and IPv6 /64s) mapped by the ring schemes: peak/mean load, moves on removal, " +
      "addition and failure against the ideal, weighted origins, IPv6 /64 cohesion.",
  },
  {
    id: "proxy-quality",
    title: "2b. Mapping quality through the real proxies",
    script: "scripts/proxy-quality.ts",
    json: "proxy-quality.json",
    about:
      "The same clients through the balancer in workerd, HAProxy 2.6 and nginx 1.22 in front of the same 10 origins: " +
      "per-origin counts, peak/mean, moves when one origin is stopped, address cohesion.",
  },
  {
    id: "worker-throughput",
    title: "3. Proxy overhead in workerd",
    script: "scripts/bench-worker.ts",
    json: "worker-throughput.json",
    about:
      "The balancer against a bare pass-through worker on the same runtime, origins and load generator: req/s, p50, " +
      "p99, and the Durable Object's calls during the load.",
  },
  {
    id: "failover",
    title: "4. Failover cost",
    script: "scripts/failover-cost.ts",
    json: "failover.json",
    about:
      "Added latency when a primary refuses connections or black-holes, time to route around a dead origin and to " +
      "return its clients after recovery; HAProxy and nginx alongside.",
  },
  {
    id: "scale-model",
    title: "5. Scale model",
    script: "scripts/scale-model.ts",
    json: "scale-model.json",
    about:
      "The Durable Object's request rate from the refresh, report and probe logic, for 300 locations, 1,000 origins " +
      "and 1M requests/s.",
  },
];

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    only: { type: "string" },
  },
});
const QUICK = args.quick;
const only = args.only?.split(",").map((s) => s.trim());
for (const id of only ?? []) {
  if (!PARTS.some((p) => p.id === id))
    throw new Error(`--only: no part "${id}" (${PARTS.map((p) => p.id).join(", ")})`);
}
const OUT = path.resolve(args.out ?? (QUICK ? fs.mkdtempSync(path.join(os.tmpdir(), "bench-quick-")) : ROOT));
const PARTS_DIR = path.join(OUT, "bench");
const CHARTS_DIR = path.join(PARTS_DIR, "charts");
/** The parts' --out (they run in the repository root): relative when inside it, so their commands read well. */
const OUT_ARG = PARTS_DIR.startsWith(ROOT + path.sep) ? path.relative(ROOT, PARTS_DIR) : PARTS_DIR;
const PART_TIMEOUT_MS = (QUICK ? 10 : 90) * 60_000;
const argv = process.argv.slice(2);
const COMMAND =
  process.env.npm_lifecycle_event === "bench"
    ? `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`
    : `node scripts/bench.ts${argv.length > 0 ? ` ${argv.join(" ")}` : ""}`;

const started = performance.now();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (line: string) => console.log(`[bench ${seconds(performance.now() - started)}] ${line}`);

// ---------------------------------------------------------------------------------------------
// Running the parts

type Status = "ok" | "crashed" | "not run";
interface Outcome {
  readonly part: Part;
  status: Status;
  reason: string;
  ms: number;
  data: Record<string, unknown> | null;
  /** Markdown reports the part wrote during this run (file names in PARTS_DIR). */
  reports: string[];
}

/** Runs one part as a child process in its own process group; resolves with its exit description. */
function runChild(part: Part, extra: string[]): Promise<{ ok: boolean; reason: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [part.script, "--out", OUT_ARG, ...extra], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own group: a timeout or Ctrl-C stops workerd, HAProxy and nginx too
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
    running = child.pid ?? null;
    const prefix = (stream: NodeJS.ReadableStream, write: (s: string) => void) => {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop()!;
        for (const line of lines) write(`  ${part.id} │ ${line}\n`);
      });
      stream.on("end", () => rest && write(`  ${part.id} │ ${rest}\n`));
    };
    prefix(child.stdout!, (s) => process.stdout.write(s));
    prefix(child.stderr!, (s) => process.stderr.write(s));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      log(`${part.id}: still running after ${seconds(PART_TIMEOUT_MS)}; stopping it`);
      killGroup(child.pid, "SIGTERM");
      setTimeout(() => killGroup(child.pid, "SIGKILL"), 10_000).unref();
    }, PART_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `could not start: ${error.message}` });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      running = null;
      if (timedOut) resolve({ ok: false, reason: `timed out after ${seconds(PART_TIMEOUT_MS)}` });
      else if (code === 0) resolve({ ok: true, reason: "" });
      else resolve({ ok: false, reason: signal ? `killed by ${signal}` : `exit status ${code}` });
    });
  });
}

let running: number | null = null;
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (running !== null) killGroup(running, "SIGTERM");
    process.exit(130);
  });
}

const mtime = (file: string) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : -Infinity);

async function runPart(part: Part, index: number, count: number): Promise<Outcome> {
  const outcome: Outcome = { part, status: "not run", reason: "", ms: 0, data: null, reports: [] };
  const script = path.join(ROOT, part.script);
  if (!fs.existsSync(script)) {
    outcome.reason = `${part.script} does not exist yet`;
    log(`(${index}/${count}) ${part.id}: not run: ${outcome.reason}`);
    return outcome;
  }
  // Every part takes --quick and --out; one that does not yet would crash on the unknown option,
  // or write over the committed reports: it is reported as not run instead.
  if (!/\bquick\b/.test(fs.readFileSync(script, "utf8"))) {
    outcome.reason = `${part.script} does not take --quick / --out yet`;
    log(`(${index}/${count}) ${part.id}: not run: ${outcome.reason}`);
    return outcome;
  }
  const extra = QUICK ? ["--quick"] : [];
  log(`(${index}/${count}) ${part.id}: node ${part.script} --out ${OUT_ARG} ${extra.join(" ")}`.trimEnd());
  const t0 = performance.now();
  // What the part wrote is what changed in the folder while it ran (stale files stay unclaimed).
  const snapshot = () => new Map(fs.readdirSync(PARTS_DIR).map((f) => [f, mtime(path.join(PARTS_DIR, f))]));
  const before = snapshot();
  const result = await runChild(part, extra);
  outcome.ms = performance.now() - t0;
  const written = [...snapshot()].filter(([f, t]) => before.get(f) !== t).map(([f]) => f);
  // Its own report only (another process may write into the folder meanwhile): named like its JSON.
  outcome.reports = written.filter((f) => f === part.json.replace(/\.json$/, ".md"));
  const jsonPath = path.join(PARTS_DIR, part.json);
  if (written.includes(part.json)) {
    try {
      outcome.data = JSON.parse(fs.readFileSync(jsonPath, "utf8")) as Record<string, unknown>;
    } catch (error) {
      outcome.reason = `${part.json} unreadable: ${(error as Error).message}`;
    }
  }
  if (!result.ok) {
    outcome.status = "crashed";
    outcome.reason = result.reason;
  } else {
    outcome.status = "ok";
    if (outcome.data === null && outcome.reason === "") outcome.reason = `finished but wrote no ${part.json}`;
  }
  log(
    `(${index}/${count}) ${part.id}: ${outcome.status === "ok" ? "done" : "CRASHED"} in ${seconds(outcome.ms)}` +
      (outcome.reason ? ` (${outcome.reason})` : ""),
  );
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// The machine

function versionOf(cmd: string, flag: string): string | null {
  const out = spawnSync(cmd, [flag], { encoding: "utf8" });
  if (out.error) return null; // not installed (`wrk -v` prints its version and exits 1)
  return `${out.stdout ?? ""}${out.stderr ?? ""}`.split("\n")[0]!.trim() || null;
}
function packageVersion(name: string): string {
  try {
    return (
      JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as {
        version: string;
      }
    ).version;
  } catch {
    return "not installed";
  }
}
function machine() {
  const cpus = os.cpus();
  const wrk = versionOf("wrk", "-v");
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown CPU",
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    workerd: packageVersion("workerd"),
    miniflare: packageVersion("miniflare"),
    wrk: wrk?.split(" [")[0] ?? "wrk not installed",
    haproxy: versionOf("haproxy", "-v")?.replace(/ - https?:\S+$/, "") ?? "HAProxy not installed",
    nginx: versionOf("nginx", "-v")?.replace(/^nginx version: nginx\//, "nginx ") ?? "nginx not installed",
    loadAverage: os.loadavg()[0]!.toFixed(2),
  };
}

// ---------------------------------------------------------------------------------------------
// Figures out of the parts' JSON

interface Goal {
  readonly goal: string;
  readonly met: boolean;
  readonly detail: string;
}
interface FigureTable {
  readonly title: string;
  readonly head: string[];
  readonly rows: string[][];
}

function goalsOf(data: Record<string, unknown> | null): Goal[] {
  const goals = data?.goals;
  if (!Array.isArray(goals)) return [];
  return goals
    .filter((g): g is Record<string, unknown> => typeof g === "object" && g !== null)
    .map((g) => ({ goal: String(g.goal ?? "?"), met: g.met === true, detail: String(g.detail ?? "") }));
}

/**
 * The part's own tables (`tables` in its JSON, plain text), else the tables of the Markdown reports
 * it wrote; either way as Markdown cells.
 */
function tablesOf(outcome: Outcome): FigureTable[] {
  const own = outcome.data?.tables;
  if (Array.isArray(own)) {
    return own
      .filter((t): t is FigureTable => Array.isArray(t?.head) && Array.isArray(t?.rows))
      .map((t) => ({
        title: String(t.title ?? ""),
        head: t.head.map((c) => escapeCell(String(c))),
        rows: t.rows.map((r) => r.map((c) => escapeCell(String(c)))),
      }));
  }
  const found: FigureTable[] = [];
  for (const report of outcome.reports) {
    let heading = "";
    let block: string[] = [];
    const flush = () => {
      if (block.length >= 3 && !/^goals?\b/i.test(heading)) {
        const cells = (line: string) =>
          line
            .replace(/^\|/, "")
            .replace(/\|\s*$/, "")
            .split(/(?<!\\)\|/)
            .map((c) => c.trim());
        found.push({ title: heading, head: cells(block[0]!), rows: block.slice(2).map(cells) });
      }
      block = [];
    };
    for (const line of fs.readFileSync(path.join(PARTS_DIR, report), "utf8").split("\n")) {
      if (line.startsWith("|")) block.push(line);
      else {
        flush();
        const h = /^#{2,4}\s+(.*)$/.exec(line);
        if (h) heading = h[1]!.trim();
      }
    }
    flush();
  }
  return found;
}

type Json = unknown;
/** Calls `visit` on every object in `value`, with the keys that lead to it (array indices as "[i]"). */
function walk(value: Json, visit: (obj: Record<string, unknown>, keys: string[]) => void, keys: string[] = []): void {
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, visit, [...keys, `[${i}]`]));
  else if (typeof value === "object" && value !== null) {
    visit(value as Record<string, unknown>, keys);
    for (const [k, v] of Object.entries(value)) walk(v, visit, [...keys, k]);
  }
}
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const GENERIC = /^(results?|schemes?|sizes?|bySize|byN|figures|load|balance|proxies|rows|data|\d+|\[\d+\])$/i;
/** A share as a percentage: JSON may hold 0.0999 or 9.99. */
const percent = (v: number, key = "") => (/percent/i.test(key) || v > 1 ? v : v * 100);

/** Peak/mean and removal moves per (scheme, N) from ring-quality.json, whatever its exact nesting. */
function ringFigures(data: Json) {
  const peaks = new Map<string, Map<number, number>>();
  const removal = new Map<string, Map<number, { moved: number; ideal: number }>>();
  walk(data, (obj, keys) => {
    const peak = num(obj.peak) ?? num(obj.peakMean) ?? num(obj.peakToMean);
    if (peak === null) return;
    const nKey = [...keys].reverse().find((k) => /^(N\s*=\s*)?\d[\d,]*$/.test(k));
    const n =
      num(obj.n) ?? num(obj.N) ?? num(obj.origins) ?? num(obj.size) ?? (nKey ? Number(nKey.replace(/\D/g, "")) : null);
    const scheme =
      (typeof obj.scheme === "string" ? obj.scheme : null) ??
      (typeof obj.name === "string" ? obj.name : null) ??
      [...keys].reverse().find((k) => !GENERIC.test(k) && !/^(N\s*=\s*)?\d/.test(k)) ??
      null;
    if (n === null || scheme === null) return;
    if (!peaks.has(scheme)) peaks.set(scheme, new Map());
    peaks.get(scheme)!.set(n, peak);
    const r = obj.removal as Record<string, unknown> | undefined;
    const moved = num(r?.moved) ?? num(r?.movedPercent) ?? num(obj.removalMoved) ?? num(obj.removalMovedPercent);
    const ideal = num(r?.ideal) ?? num(r?.idealPercent) ?? num(obj.removalIdeal) ?? num(obj.removalIdealPercent);
    if (moved !== null && ideal !== null) {
      if (!removal.has(scheme)) removal.set(scheme, new Map());
      removal.get(scheme)!.set(n, { moved: percent(moved), ideal: percent(ideal) });
    }
  });
  return { peaks, removal };
}

/** Peak/mean per proxy from proxy-quality.json. */
function proxyFigures(data: Json): Map<string, number> {
  const peaks = new Map<string, number>();
  walk(data, (obj, keys) => {
    const peak = num(obj.peakMean) ?? num(obj.peak) ?? num(obj.peakToMean);
    const name = typeof obj.name === "string" ? obj.name : typeof obj.proxy === "string" ? obj.proxy : keys.at(-1);
    if (peak !== null && name !== undefined && !/^\[?\d+\]?$/.test(name)) peaks.set(name, peak);
  });
  return peaks;
}

// ---------------------------------------------------------------------------------------------
// Charts

interface Chart {
  readonly file: string;
  readonly title: string;
  readonly part: string;
}

function drawCharts(outcomes: Outcome[]): { charts: Chart[]; notes: string[] } {
  const charts: Chart[] = [];
  const notes: string[] = [];
  const data = (id: string) => outcomes.find((o) => o.part.id === id)?.data ?? null;
  const write = (file: string, part: string, chart: BarChart) => {
    fs.mkdirSync(CHARTS_DIR, { recursive: true });
    fs.writeFileSync(path.join(CHARTS_DIR, file), barChart(chart));
    charts.push({ file, title: chart.title, part });
  };
  const n = (v: number) => `N = ${v.toLocaleString("en")}`;

  const ring = data("ring-quality");
  if (ring !== null) {
    const { peaks, removal } = ringFigures(ring);
    const sizes = [...new Set([...peaks.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
    if (peaks.size > 0) {
      write("ring-peak-mean.svg", "ring-quality", {
        title: "Peak/mean load by scheme and origin count",
        subtitle: "simulation, one seeded client set; 1 = perfect balance; dashed: issue-5 goals",
        groups: sizes.map(n),
        series: [...peaks].map(([name, m]) => ({ name, values: sizes.map((s) => m.get(s) ?? null) })),
        yLabel: "peak / mean",
        xLabel: "origins",
        yMin: 1,
        lines: [
          { value: 1.02, label: "goal ≤ 1.02", group: sizes.indexOf(10) },
          { value: 1.04, label: "goal ≤ 1.04", group: sizes.indexOf(100) },
        ].filter((l) => l.group >= 0),
        format: (v) => v.toFixed(3),
      });
    } else notes.push("ring-quality.json holds no peak/mean per scheme and N: its charts are not drawn.");
    if (removal.size > 0) {
      const rSizes = [...new Set([...removal.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
      write("ring-removal.svg", "ring-quality", {
        title: "Clients moved when one origin is removed, against the ideal",
        subtitle: "moved share ÷ the removed origin's own share; 1 = ideal (only its clients move)",
        groups: rSizes.map(n),
        series: [...removal].map(([name, m]) => ({
          name,
          values: rSizes.map((s) => (m.has(s) ? m.get(s)!.moved / m.get(s)!.ideal : null)),
        })),
        yLabel: "moved ÷ ideal",
        xLabel: "origins",
        yMin: 1,
        format: (v) => `×${v.toFixed(3)}`,
      });
    }
  }

  const proxies = data("proxy-quality");
  if (proxies !== null) {
    const peaks = proxyFigures(proxies);
    if (peaks.size > 0) {
      write("proxies-peak-mean.svg", "proxy-quality", {
        title: "Peak/mean load through the real proxies (10 origins)",
        subtitle: `${num(proxies.clients)?.toLocaleString("en") ?? "the same"} clients through each proxy; 1 = perfect balance`,
        groups: [...peaks.keys()],
        series: [{ name: "peak / mean", values: [...peaks.values()] }],
        yLabel: "peak / mean",
        yMin: 1,
        lines: [{ value: 1.02, label: "goal at 1M clients: ≤ 1.02" }],
        format: (v) => v.toFixed(3),
        height: 460,
      });
    } else notes.push("proxy-quality.json holds no peak/mean per proxy: its chart is not drawn.");
  }

  const worker = data("worker-throughput");
  const results = worker?.results as Record<string, { rps: number; p50: number; p99: number }> | undefined;
  if (results?.bare && results.current) {
    const names = Object.keys(results);
    const label = (name: string) => (name === "current" ? "balancer" : name === "bare" ? "bare worker" : name);
    write("worker-rps.svg", "worker-throughput", {
      title: "Requests per second in workerd: balancer vs bare worker",
      subtitle: "same runtime, origins and load generator; higher is better",
      groups: names.map(label),
      series: [{ name: "req/s", values: names.map((k) => results[k]!.rps) }],
      yLabel: "requests / s",
      lines: [{ value: results.bare.rps * 0.9, label: "goal: ≥ 0.9 × bare" }],
      format: (v) => Math.round(v).toLocaleString("en"),
    });
    write("worker-latency.svg", "worker-throughput", {
      title: "Latency in workerd: balancer vs bare worker",
      subtitle: "p50 and p99 under the same load; lower is better",
      groups: ["p50", "p99"],
      series: names.map((k) => ({ name: label(k), values: [results[k]!.p50, results[k]!.p99] })),
      yLabel: "milliseconds",
      lines: [{ value: results.bare.p99 * 1.1, label: "goal: p99 ≤ 1.1 × bare" }],
      format: (v) => v.toFixed(1),
    });
  }

  const scale = data("scale-model");
  const cases = scale?.cases as
    { isolatesPerLocation: number; ttlS: number; steady: number; peak: number }[] | undefined;
  const ttl = (scale?.inputs as { settings?: { ttlMs?: number } } | undefined)?.settings?.ttlMs;
  if (Array.isArray(cases) && ttl !== undefined) {
    const rows = cases.filter((c) => c.ttlS * 1000 === ttl);
    write("scale-do-calls.svg", "scale-model", {
      title: "Durable Object calls/s: 300 locations, 1,000 origins, 1M req/s",
      subtitle: `model, SNAPSHOT_TTL_MS ${ttl / 1000} s (default); dashed: one object's ~1,000/s soft limit`,
      groups: rows.map((c) => `${c.isolatesPerLocation} per location`),
      series: [
        { name: "steady state", values: rows.map((c) => c.steady) },
        { name: "busiest second after an origin dies", values: rows.map((c) => c.peak) },
      ],
      yLabel: "calls / s",
      xLabel: "isolates per location (not published by Cloudflare)",
      lines: [{ value: 1000, label: "soft limit ≈ 1,000/s" }],
      format: (v) => Math.round(v).toLocaleString("en"),
    });
  }
  return { charts, notes };
}

// ---------------------------------------------------------------------------------------------
// BENCHMARKS.md

const escapeCell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
/** A Markdown table whose columns are left-aligned text unless marked numeric. */
function textTable(head: string[], rows: string[][], numeric: boolean[] = []): string {
  const align = head.map((_, i) => (numeric[i] ? "---:" : "---"));
  return [head, align, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}
const rel = (file: string) => path.relative(OUT, file).split(path.sep).join("/");

function render(outcomes: Outcome[], charts: Chart[], chartNotes: string[], m: ReturnType<typeof machine>, ms: number) {
  const all = outcomes.flatMap((o) => goalsOf(o.data).map((g) => ({ ...g, part: o.part })));
  const missed = all.filter((g) => !g.met);
  const lines: string[] = [];
  lines.push(
    "# Benchmarks",
    "",
    `Issue 5's measurements, produced by \`${COMMAND}\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC ` +
      `in ${seconds(ms)}.${QUICK ? " **Quick run**: small sizes, to check that the bench works; its figures are not the published ones." : ""} ` +
      "A script, not a test: nothing here is asserted; every goal is stated with what was measured.",
    "",
    `**Machine**: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}; Node ${m.node}; workerd ${m.workerd} (miniflare ` +
      `${m.miniflare}); ${m.wrk}; ${m.haproxy}; ${m.nginx}. 1-minute load average at the start: ${m.loadAverage}. ` +
      "A shared 2-core machine: timings swing by up to 2× between runs; mapping figures do not.",
    "",
    "## Summary",
    "",
    textTable(
      ["part", "status", "time", "goals met", "report"],
      outcomes.map((o) => {
        const goals = goalsOf(o.data);
        const report = o.reports.map((r) => `[${r}](${rel(path.join(PARTS_DIR, r))})`).join(", ") || "—";
        const status = o.status === "ok" ? (o.reason ? `ok (${o.reason})` : "ok") : `**${o.status}**: ${o.reason}`;
        return [
          o.part.title,
          escapeCell(status),
          o.status === "not run" ? "—" : seconds(o.ms),
          goals.length > 0 ? `${goals.filter((g) => g.met).length} of ${goals.length}` : "—",
          report,
        ];
      }),
      [false, false, true, true, false],
    ),
    "",
  );
  if (missed.length > 0) {
    lines.push(
      `**Missed goals (${missed.length} of ${all.length})**:`,
      "",
      ...missed.map((g) => `- ${g.part.title}: ${g.goal} — ${g.detail}`),
      "",
    );
  } else if (all.length > 0) lines.push(`Every goal the parts stated (${all.length}) was met.`, "");

  for (const o of outcomes) {
    lines.push(`## ${o.part.title}`, "", o.part.about, "");
    if (o.status === "not run") {
      lines.push(`**Not run**: ${o.reason}.`, "");
      continue;
    }
    if (o.status === "crashed") lines.push(`**Crashed** (${o.reason}); figures below are whatever it wrote.`, "");
    const command = typeof o.data?.command === "string" ? o.data.command : null;
    if (command) lines.push(`Command: \`${command}\`.`, "");
    const goals = goalsOf(o.data);
    if (goals.length > 0) {
      lines.push(
        textTable(
          ["goal", "verdict", "measured"],
          goals.map((g) => [escapeCell(g.goal), g.met ? "met" : "**missed**", escapeCell(g.detail)]),
        ),
        "",
      );
    } else lines.push("No goal verdicts: the part wrote no JSON with `goals`.", "");
    for (const t of tablesOf(o)) {
      if (t.title) lines.push(`**${t.title}**`, "");
      lines.push(table(t.head, t.rows), "");
    }
    for (const c of charts.filter((c) => c.part === o.part.id)) {
      lines.push(`![${c.title}](${rel(path.join(CHARTS_DIR, c.file))})`, "");
    }
    if (o.reports.length > 0) {
      const links = o.reports.map((r) => `[${rel(path.join(PARTS_DIR, r))}](${rel(path.join(PARTS_DIR, r))})`);
      lines.push(`Full report: ${links.join(", ")}.`, "");
    }
  }
  if (chartNotes.length > 0) lines.push("## Notes", "", ...chartNotes.map((n) => `- ${n}`), "");
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------

const parts = PARTS.filter((p) => only === undefined || only.includes(p.id));
const m = machine();
log(`${QUICK ? "quick run" : "full run"}: ${parts.length} parts; BENCHMARKS.md → ${OUT}, reports → ${PARTS_DIR}`);
log(`machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, workerd ${m.workerd}; load average ${m.loadAverage}`);
fs.mkdirSync(PARTS_DIR, { recursive: true });
const outcomes: Outcome[] = [];
for (const [i, part] of parts.entries()) outcomes.push(await runPart(part, i + 1, parts.length));

// The parts' JSON as prettier writes it, so `prettier --check .` accepts a committed full run.
for (const o of outcomes) {
  const file = path.join(PARTS_DIR, o.part.json);
  if (o.data === null) continue;
  const config = (await prettier.resolveConfig(file)) ?? {};
  fs.writeFileSync(file, await prettier.format(fs.readFileSync(file, "utf8"), { ...config, filepath: file }));
}
const { charts, notes } = drawCharts(outcomes);
const total = performance.now() - started;
const benchmarks = path.join(OUT, "BENCHMARKS.md");
const config = (await prettier.resolveConfig(benchmarks)) ?? {};
const md = await prettier.format(render(outcomes, charts, notes, m, total), { ...config, parser: "markdown" });
fs.writeFileSync(benchmarks, md);

const crashed = outcomes.filter((o) => o.status === "crashed");
console.log("");
for (const o of outcomes) {
  const goals = goalsOf(o.data);
  const verdict = goals.length > 0 ? `${goals.filter((g) => g.met).length}/${goals.length} goals met` : "no goals";
  const time = o.status === "not run" ? "" : ` in ${seconds(o.ms)}`;
  console.log(`  ${o.part.id.padEnd(18)} ${o.status.padEnd(8)}${time}; ${verdict}${o.reason ? ` (${o.reason})` : ""}`);
  for (const g of goals.filter((g) => !g.met)) console.log(`  ${"".padEnd(18)} missed: ${g.goal}: ${g.detail}`);
}
log(`wrote ${benchmarks} and ${charts.length} charts in ${CHARTS_DIR}`);
if (crashed.length > 0) {
  log(`FAILED: ${crashed.map((o) => `${o.part.id} (${o.reason})`).join(", ")}`);
  process.exit(1);
}
