/**
 * Req/s and latency of the balancer in workerd (Miniflare) next to a bare pass-through worker (the
 * runtime's floor) and, with --baseline <rev>, the balancer built from that revision: one run, one
 * machine, the same loopback origins, targets one at a time in fresh Miniflares (alternating with
 * --rounds N; the table then shows medians). Every request carries a fresh random client address (IPv4 in
 * 198.18.0.0/15 or an IPv6 /64 in 2001:db8::/32). The Durable Object's calls are counted (`callCounts()`)
 * before and after each measured run. A script, not a test. Writes worker-throughput.md and
 * worker-throughput.json (figures and goal verdicts, for `npm run bench`) to bench/ or --out DIR.
 *
 *   node scripts/bench-worker.ts [--baseline <rev>] [--seconds 10] [--connections 50] [--warmup 2] [--rounds 3]
 *     [--quick] [--out DIR]
 *
 * --quick: 3 s per target after 1 s of warm-up, 1 round (explicit options still win).
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { RING_OBJECT_NAME } from "../src/ring-store/object-name.ts";
import { BENCH_DIR, table, writeJson } from "./report.ts";

type Generator = "autocannon" | "wrk" | "node:http";
type Load = { url: string; connections: number; seconds: number; warmup: number; generator: Generator };
type Result = { rps: number; p50: number; p99: number; errors: number; non2xx: number; requests: number };
/** What the ring Durable Object has served since it started (src/worker/ring-store.ts). */
type CallCounts = { getUpdate: number; report: number; probeRound: number };
type RingStub = { callCounts(): Promise<CallCounts> };
/** From the load generator's thread: the warm-up is over (measuring starts), then the result. */
type ThreadMessage = { type: "measuring" } | { type: "result"; result: Result };

const PATH = "/bench";
const byte = () => Math.floor(Math.random() * 256);
const group = () => Math.floor(Math.random() * 65536).toString(16);
/** A fresh client per request: IPv4 in the benchmarking range 198.18.0.0/15, or an IPv6 /64 in 2001:db8::/32. */
const randomIp = () =>
  Math.random() < 0.5
    ? `198.${18 + (byte() & 1)}.${byte()}.${(byte() % 254) + 1}`
    : `2001:db8:${group()}:${group()}::${group()}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => console.log(`[bench] ${message}`);
const execFileAsync = promisify(execFile);

if (isMainThread) await main();
else {
  const result = await generate(workerData as Load, () => parentPort!.postMessage({ type: "measuring" }));
  parentPort!.postMessage({ type: "result", result } satisfies ThreadMessage);
}

/** In the worker thread: warm up, then measure, with autocannon or a node:http closed loop. */
async function generate(load: Load, onMeasuring: () => void): Promise<Result> {
  const url = new URL(PATH, load.url);
  if (load.generator === "autocannon") {
    const name = "autocannon"; // not a dependency: imported by name so the type check ignores it
    const autocannon = (await import(name)).default;
    const run = (duration: number) =>
      autocannon({
        url: url.href,
        connections: load.connections,
        duration,
        requests: [{ setupRequest: (r: any) => ({ ...r, headers: { ...r.headers, "cf-connecting-ip": randomIp() } }) }],
      });
    await run(load.warmup);
    onMeasuring();
    const r = await run(load.seconds);
    const requests = r.requests.total;
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors,
      non2xx: r.non2xx,
      requests,
    };
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: load.connections });
  const latencies: number[] = [];
  const state = { measuring: false, stopped: false, errors: 0, non2xx: 0 };
  const once = () =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      const fail = () => {
        if (state.measuring) state.errors++;
        setTimeout(resolve, 10); // no busy spin when the target is down
      };
      const req = http.get(url, { agent, headers: { "cf-connecting-ip": randomIp() } }, (res) => {
        res.on("error", fail).resume();
        res.on("end", () => {
          if (state.measuring) latencies.push(performance.now() - start);
          if (state.measuring && (res.statusCode! < 200 || res.statusCode! > 299)) state.non2xx++;
          resolve();
        });
      });
      req.on("error", fail);
    });
  const loops = Array.from({ length: load.connections }, async () => {
    while (!state.stopped) await once();
  });
  await sleep(load.warmup * 1000);
  onMeasuring();
  state.measuring = true;
  const t0 = performance.now();
  await sleep(load.seconds * 1000);
  Object.assign(state, { measuring: false, stopped: true });
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(loops);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)] ?? NaN;
  const [errors, non2xx, requests] = [state.errors, state.non2xx, latencies.length];
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors, non2xx, requests };
}

/** wrk (a separate process, so the origin's event loop stays free): warm-up run, then the measured run. */
async function runWrk(load: Load, tmp: string, onMeasuring: () => Promise<void>): Promise<Result> {
  const script = path.join(tmp, "clients.lua"); // LuaJIT: math.random, no bit operators
  fs.writeFileSync(
    script,
    [
      "local threads = 0",
      "function setup(thread) threads = threads + 1; thread:set('id', threads) end",
      "function init(args) math.randomseed(os.time() * 100 + (id or 0)) end",
      "request = function()",
      "  local ip",
      "  if math.random() < 0.5 then",
      "    ip = '198.' .. math.random(18, 19) .. '.' .. math.random(0, 255) .. '.' .. math.random(1, 254)",
      "  else",
      "    ip = string.format('2001:db8:%x:%x::%x', math.random(0, 65535), math.random(0, 65535), math.random(0, 65535))",
      "  end",
      `  return wrk.format("GET", "${PATH}", { ["CF-Connecting-IP"] = ip })`,
      "end",
      "",
    ].join("\n"),
  );
  const threads = `-t${Math.min(2, load.connections)}`; // async: the origin in this process must keep serving
  const run = (s: number) =>
    execFileAsync("wrk", [threads, `-c${load.connections}`, `-d${s}s`, "--latency", "-s", script, load.url]);
  await run(load.warmup);
  await onMeasuring();
  const out = (await run(load.seconds)).stdout;
  const ms = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\b`, "m").exec(out);
    return m ? Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3 }[m[2] as "us" | "ms" | "s"] : NaN;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)?.slice(1) ?? [];
  const errors = socket.reduce((sum, n) => sum + Number(n), 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0); // wrk counts 3xx here too
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  return { rps, p50: ms("50"), p99: ms("99"), errors, non2xx, requests };
}

/** Medians over the rounds (errors and non-2xx summed), and the range of req/s. */
function summarize(rs: Result[]) {
  const of = (key: keyof Result) => rs.map((r) => r[key]).sort((a, b) => a - b);
  const mid = (key: keyof Result) => of(key)[Math.floor((rs.length - 1) / 2)]!;
  const sum = (key: keyof Result) => of(key).reduce((a, b) => a + b, 0);
  const [min, max] = [of("rps")[0]!, of("rps").at(-1)!];
  const [p50, p99, errors, non2xx, requests] = [mid("p50"), mid("p99"), sum("errors"), sum("non2xx"), sum("requests")];
  return { rps: mid("rps"), p50, p99, errors, non2xx, requests, min, max };
}

async function main(): Promise<void> {
  const str = { type: "string" } as const;
  const { values: v } = parseArgs({
    options: {
      baseline: str,
      seconds: str,
      connections: str,
      warmup: str,
      rounds: str,
      quick: { type: "boolean", default: false },
      out: { type: "string", default: BENCH_DIR },
    },
  });
  const q = v.quick;
  const numbers = [v.seconds ?? (q ? 3 : 10), v.connections ?? 50, v.warmup ?? (q ? 1 : 2), v.rounds ?? (q ? 1 : 3)];
  const [seconds, connections, warmup, rounds] = numbers.map(Number) as [number, number, number, number];
  if (!(seconds > 0 && connections >= 1 && warmup >= 0 && rounds >= 1)) throw new Error("bad numeric option");
  const root = path.resolve(import.meta.dirname, "..");
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const wranglerPkg = createRequire(import.meta.url).resolve("wrangler/package.json");
  const wrangler = path.join(path.dirname(wranglerPkg), "bin", "wrangler.js");
  const miniflarePkg = JSON.parse(fs.readFileSync(path.join(root, "node_modules/miniflare/package.json"), "utf8"));
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
  const [generator, generatorLabel]: [Generator, string] = fs.existsSync(path.join(root, "node_modules/autocannon"))
    ? ["autocannon", "autocannon in a worker thread of this process"]
    : spawnSync("sh", ["-c", "command -v wrk"]).status === 0
      ? ["wrk", "wrk (2 threads, its own process)"]
      : ["node:http", "node:http loop in a worker thread of this process (no autocannon/wrk; shares the CPU)"];
  const loadAverage = os.loadavg()[0]!.toFixed(2); // others' test runs on this machine skew the numbers
  if (Number(loadAverage) > 1) log(`warning: 1-min load average is ${loadAverage}; something else is busy`);

  const cleanup: (() => unknown)[] = [];
  const disposeAll = async () => {
    for (const task of cleanup.splice(0).reverse()) await Promise.resolve(task()).catch((e) => console.error(e));
  };
  process.once("SIGINT", () => void disposeAll().finally(() => process.exit(130)));
  try {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-worker-"));
    cleanup.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const origins: string[] = [];
    for (let i = 0; i < 3; i++) {
      const server = http.createServer((req, res) => {
        req.resume();
        res.writeHead(200, { "content-type": "text/plain", "content-length": "3" }).end("ok\n");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      origins.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      cleanup.push(() => new Promise((resolve) => (server.close(resolve), server.closeAllConnections())));
    }
    log(`origins: ${origins.join(", ")}`);

    /** Bundles the worker in `dir` exactly as `wrangler deploy` would; returns the script's path. */
    const build = (label: string, dir: string): string => {
      const outdir = path.join(tmp, `${label}-dist`);
      const started = performance.now();
      const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
      const args = [wrangler, "deploy", "--dry-run", "--outdir", outdir];
      let out: string;
      try {
        out = execFileSync(process.execPath, args, { cwd: dir, env, encoding: "utf8", stdio: "pipe" });
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        process.stderr.write(`${e.stdout ?? ""}${e.stderr ?? ""}`);
        throw new Error(`wrangler could not build ${label} (output above)`);
      }
      const size = /Total Upload: ([^\n]+)/.exec(out)?.[1]?.trim() ?? "size not reported";
      log(`built ${label} in ${((performance.now() - started) / 1000).toFixed(1)} s (${size})`);
      const js = fs.readdirSync(outdir).filter((f) => f.endsWith(".js"));
      return path.join(outdir, js.includes("index.js") ? "index.js" : js[0]!);
    };
    /** Miniflare options for the balancer, as test/e2e/harness.ts builds them. */
    const balancer = (dir: string, scriptPath: string) => {
      const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(dir, "wrangler.toml"));
      const list = origins.map((url, i) => ({ id: `origin-${i + 1}`, url }));
      return {
        compatibilityDate: workerOptions.compatibilityDate,
        compatibilityFlags: workerOptions.compatibilityFlags,
        durableObjects: workerOptions.durableObjects,
        modules: true,
        scriptPath,
        modulesRoot: path.dirname(scriptPath), // the bundle lives outside the cwd
        bindings: { ...(workerOptions.bindings as Record<string, unknown>), ORIGINS: JSON.stringify(list) },
      };
    };

    const barePath = path.join(tmp, "bare.js");
    fs.writeFileSync(
      barePath,
      // The floor: the same origins, spread the way the `% N` Worker balancers do (a string hash of
      // the client address modulo the origin count), so both targets pay the same origin fan-out
      // and connection pools, and the difference is the balancer's own work.
      `const ORIGINS = ${JSON.stringify(origins)};\n` +
        `export default { fetch(req) { const ip = req.headers.get("cf-connecting-ip") ?? ""; let h = 0;\n` +
        `  for (let i = 0; i < ip.length; i++) h = (h * 31 + ip.charCodeAt(i)) | 0;\n` +
        `  const u = new URL(req.url); return fetch(ORIGINS[(h >>> 0) % ORIGINS.length] + u.pathname + u.search, req); } };\n`,
    );
    const current = balancer(root, build("current", root));
    const bare = {
      modules: true,
      modulesRoot: tmp,
      scriptPath: barePath,
      compatibilityDate: current.compatibilityDate,
    };
    const targets: { name: string; options: object }[] = [
      { name: "bare", options: bare },
      { name: "current", options: current },
    ];
    const dirty = git("status", "--porcelain", "--", "src", "wrangler.toml") !== "";
    const revs = [`current = ${git("rev-parse", "--short", "HEAD")}${dirty ? " + uncommitted changes" : ""}`];
    if (v.baseline !== undefined) {
      const rev = git("rev-parse", "--short", `${v.baseline}^{commit}`);
      const dir = path.join(tmp, "baseline");
      fs.mkdirSync(dir);
      const wanted = ["src", "wrangler.toml", "package.json", "tsconfig.json"];
      const files = wanted.filter(
        (f) => spawnSync("git", ["cat-file", "-e", `${rev}:${f}`], { cwd: root }).status === 0,
      );
      const tar = execFileSync("git", ["archive", rev, ...files], { cwd: root, maxBuffer: 1 << 28 });
      execFileSync("tar", ["-x", "-C", dir], { input: tar });
      fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
      revs.push(`baseline = ${v.baseline} (${rev})`);
      targets.push({ name: "baseline", options: balancer(dir, build("baseline", dir)) });
    }

    const results = new Map<string, Result[]>(targets.map((t) => [t.name, []]));
    const calls = new Map<string, CallCounts>();
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const mf = new Miniflare(convertV4MiniflareOptions({ ...target.options, host: "127.0.0.1", port: 0 } as never));
        try {
          const url = (await mf.ready).href;
          const probe = await fetch(new URL(PATH, url), { headers: { "cf-connecting-ip": randomIp() } });
          await probe.arrayBuffer();
          const name = rounds > 1 ? `round ${round}/${rounds} ${target.name}` : target.name;
          log(`${name}: ${url} answers ${probe.status}; ${warmup} s warm-up, ${seconds} s measured…`);
          // The balancer's ring object: its call counters are read when the measured run starts and ends.
          let ring: RingStub | null = null;
          if (target.name !== "bare") {
            const namespace = await mf.getDurableObjectNamespace("RING");
            ring = namespace.get(namespace.idFromName(RING_OBJECT_NAME)) as unknown as RingStub;
          }
          const counts = async (): Promise<CallCounts | null> => {
            if (ring === null) return null;
            try {
              const c = await ring.callCounts();
              return { getUpdate: c.getUpdate, report: c.report, probeRound: c.probeRound };
            } catch (error) {
              log(`${name}: callCounts() failed: ${(error as Error).message}`);
              return null;
            }
          };
          let before: Promise<CallCounts | null> = Promise.resolve(null);
          const load: Load = { url, connections, seconds, warmup, generator };
          const r: Result =
            generator === "wrk"
              ? await runWrk(load, tmp, async () => void (before = Promise.resolve(await counts())))
              : await new Promise((resolve, reject) => {
                  const worker = new Worker(new URL(import.meta.url), { workerData: load });
                  worker.on("message", (m: ThreadMessage) => {
                    if (m.type === "measuring") before = counts();
                    else resolve(m.result);
                  });
                  worker.once("error", reject);
                  worker.once("exit", (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
                });
          const [start, end] = [await before, await counts()];
          results.get(target.name)!.push(r);
          let line = `${name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`;
          if (start !== null && end !== null) {
            const total = calls.get(target.name) ?? { getUpdate: 0, report: 0, probeRound: 0 };
            for (const key of ["getUpdate", "report", "probeRound"] as const) total[key] += end[key] - start[key];
            calls.set(target.name, total);
            const d = (key: keyof CallCounts) => end[key] - start[key];
            line += `; Durable Object: ${d("getUpdate")} getUpdate, ${d("report")} report, ${d("probeRound")} probe rounds`;
          }
          log(line);
        } finally {
          await mf.dispose();
        }
      }
    }

    const summary = new Map([...results].map(([name, rs]) => [name, summarize(rs)]));
    const cpus = os.cpus();
    const machine = `${cpus[0]?.model.trim() ?? "unknown CPU"}, ${cpus.length} cores, Node ${process.version}`;
    const ttlMs = Number((current.bindings as Record<string, unknown>).SNAPSHOT_TTL_MS ?? 10_000);
    const header =
      `Machine: ${machine}, miniflare ${miniflarePkg.version} (workerd ${miniflarePkg.dependencies?.workerd ?? "?"}). ` +
      `Load: ${generatorLabel}, ${connections} connections, ${seconds} s per target after ${warmup} s warm-up` +
      `${rounds > 1 ? `, ${rounds} alternating rounds (medians; req/s range in brackets)` : ""}, GET ${PATH}, each ` +
      `request from a fresh random CF-Connecting-IP (IPv4 in 198.18.0.0/15 or an IPv6 /64 in 2001:db8::/32). ` +
      `${revs.join("; ")}; ORIGINS = 3 node:http origins on loopback; bare spreads over the ` +
      `same 3 by a string hash of CF-Connecting-IP % 3. 1-min load average at start: ${loadAverage}. ${new Date().toISOString()}`;
    const head = ["target", "req/s", "p50 ms", "p99 ms", "errors", "non-2xx"];
    const rows = [...summary].map(([name, r]) => [
      name,
      `${r.rps.toFixed(0)}${rounds > 1 ? ` (${r.min.toFixed(0)}–${r.max.toFixed(0)})` : ""}`,
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      String(r.errors),
      String(r.non2xx),
    ]);
    const callHead = [
      "target",
      "requests measured",
      "getUpdate",
      "report",
      "probe rounds (alarm)",
      "calls per 10,000 requests",
    ];
    const per10k = (name: string) => {
      const c = calls.get(name);
      const n = summary.get(name)?.requests ?? NaN;
      return c === undefined ? NaN : ((c.getUpdate + c.report) / n) * 10_000;
    };
    const callRows = [...calls].map(([name, c]) => [
      name,
      summary.get(name)!.requests.toLocaleString("en"),
      String(c.getUpdate),
      String(c.report),
      String(c.probeRound),
      per10k(name).toFixed(2),
    ]);
    const change = (a: number, b: number) => `${a >= b ? "+" : ""}${((a / b - 1) * 100).toFixed(1)} %`;
    const compare = (label: string, a?: Result, b?: Result): string[] =>
      a && b
        ? [`- ${label}: req/s ${change(a.rps, b.rps)}, p50 ${change(a.p50, b.p50)}, p99 ${change(a.p99, b.p99)}`]
        : [];

    const [cur, bar] = [summary.get("current")!, summary.get("bare")!];
    const c = calls.get("current");
    // Refreshes: one per SNAPSHOT_TTL_MS per isolate, whatever the traffic (Miniflare runs one isolate).
    const allowed = rounds * (Math.ceil((seconds * 1000) / ttlMs) + 1);
    // Verdicts on the median of the per-round ratios: the two targets of one round ran back to back,
    // so a slow spell of this shared machine hits both; with one round it is the plain ratio.
    const ratio = (key: "rps" | "p50" | "p99") => {
      const [a, b] = [results.get("current")!, results.get("bare")!];
      const each = a.map((r, i) => r[key] / b[i]![key]).sort((x, y) => x - y);
      return { median: each[Math.floor((each.length - 1) / 2)]!, each };
    };
    const [rpsRatio, p50Ratio, p99Ratio] = [ratio("rps"), ratio("p50"), ratio("p99")];
    const perRound = (r: { each: number[] }) =>
      rounds > 1 ? `, per round ${r.each.map((x) => `×${x.toFixed(2)}`).join(" ")}` : "";
    const goals = [
      {
        goal: "throughput ≥ 0.9× the bare worker's",
        met: rpsRatio.median >= 0.9,
        detail:
          `×${rpsRatio.median.toFixed(3)}${rounds > 1 ? " (median of the rounds' ratios" + perRound(rpsRatio) + ")" : ""}; ` +
          `medians ${cur.rps.toFixed(0)} vs ${bar.rps.toFixed(0)} req/s`,
      },
      {
        goal: "p99 latency ≤ 1.1× the bare worker's",
        met: p99Ratio.median <= 1.1,
        detail:
          `×${p99Ratio.median.toFixed(3)}${rounds > 1 ? " (median of the rounds' ratios" + perRound(p99Ratio) + ")" : ""}; ` +
          `medians ${cur.p99.toFixed(2)} vs ${bar.p99.toFixed(2)} ms; p50 ×${p50Ratio.median.toFixed(3)}`,
      },
      {
        goal: "Durable Object calls per 10,000 requests about 0 in steady state (refreshes per TTL only, no reports)",
        met: c !== undefined && c.report === 0 && c.getUpdate <= allowed,
        detail:
          c === undefined
            ? "not counted: callCounts() unavailable"
            : `${per10k("current").toFixed(2)} per 10,000 (${c.getUpdate} getUpdate, ${c.report} report in ` +
              `${cur.requests.toLocaleString("en")} requests; the TTL of ${ttlMs / 1000} s allows ${allowed}); ` +
              `${c.probeRound} alarm probe rounds besides, driven by time, not traffic`,
      },
    ];
    const text = [
      header,
      "",
      table(head, rows),
      "",
      ...compare("overhead vs bare (current)", summary.get("current"), summary.get("bare")),
      ...compare("overhead vs bare (baseline)", summary.get("baseline"), summary.get("bare")),
      ...compare("current vs baseline", summary.get("current"), summary.get("baseline")),
      "",
      "## Durable Object calls during the measured runs",
      "",
      table(callHead, callRows),
      "",
      "Counted by the object itself (`callCounts()`), read when each measured run starts and ends. Refreshes " +
        "(`getUpdate`) come once per `SNAPSHOT_TTL_MS` per isolate whatever the traffic; reports only after failures; " +
        "probe rounds from the object's own alarm every `HEALTH_INTERVAL_MS`.",
      "",
      "## Goals (issue 5)",
      "",
      ...goals.map((g) => `- ${g.met ? "met" : "**missed**"}: ${g.goal} — ${g.detail}`),
    ].join("\n");
    const file = path.join(v.out, "worker-throughput.md");
    const prettier = await import("prettier"); // so `prettier --check .` (npm test) accepts the file
    const md = await prettier.format(`# Worker throughput\n\n${text}\n`, {
      ...(await prettier.resolveConfig(path.join(BENCH_DIR, "worker-throughput.md"))),
      parser: "markdown",
    });
    console.log(`\n${md.slice(md.indexOf("\n\n") + 2)}`);
    fs.mkdirSync(v.out, { recursive: true });
    fs.writeFileSync(file, md);
    const command = ["node scripts/bench-worker.ts", ...process.argv.slice(2)].join(" ");
    const tables = [
      { title: "Req/s and latency", head, rows },
      { title: "Durable Object calls during the measured runs", head: callHead, rows: callRows },
    ];
    const figures = Object.fromEntries(summary);
    const settings = { generator, connections, seconds, warmup, rounds, ttlMs };
    const data = { machine, command, quick: q, goals, settings, results: figures, calls: Object.fromEntries(calls) };
    await writeJson("worker-throughput.json", { ...data, tables }, v.out);
    log(`written to ${path.join(v.out, "worker-throughput.md")} and worker-throughput.json`);
  } finally {
    await disposeAll();
  }
}
