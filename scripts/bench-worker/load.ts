/**
 * The load generators of the throughput bench: autocannon or a node:http closed loop in a worker
 * thread (`load-thread.ts`), or wrk in its own process. Every request carries a fresh random
 * client address (IPv4 in 198.18.0.0/15 or an IPv6 /64 in 2001:db8::/32).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { sleep } from "../lib/log.ts";
import { quantile } from "../lib/stats.ts";

export type Generator = "autocannon" | "wrk" | "node:http";
export type Load = {
  url: string;
  connections: number;
  seconds: number;
  warmup: number;
  generator: Generator;
  /** Date.now() at which to start the warm-up, so that loads in several threads run at the same time. */
  startAt?: number;
  /** Requests per second on a fixed schedule (open-loop.ts; node:http only) instead of a closed loop. */
  rate?: number;
};
export type Result = {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
  /** Open loop only: when the requests at or above the p99 were sent (ms since the Unix epoch). */
  slowSentAt?: number[];
};
/** From the load generator's thread: measuring starts (the warm-up is over), measuring stops, then the result. */
export type ThreadMessage = { type: "measuring" } | { type: "stopped" } | { type: "result"; result: Result };

export const PATH = "/bench";
const byte = () => Math.floor(Math.random() * 256);
const group = () => Math.floor(Math.random() * 65536).toString(16);
/** A fresh client per request: IPv4 in the benchmarking range 198.18.0.0/15, or an IPv6 /64 in 2001:db8::/32. */
export const randomIp = () =>
  Math.random() < 0.5
    ? `198.${18 + (byte() & 1)}.${byte()}.${(byte() % 254) + 1}`
    : `2001:db8:${group()}:${group()}::${group()}`;
const execFileAsync = promisify(execFile);

/**
 * One GET from a fresh random client, its body read: its time from now to the end of the body and
 * its status, or null when it failed (or got no answer within 30 s). Both loops send with it.
 */
export function timedGet(
  url: URL,
  agent: http.Agent,
): Promise<{ ms: number; status: number; startedAt: number } | null> {
  return new Promise((resolve) => {
    const start = performance.now();
    const fail = () => resolve(null);
    const req = http.get(url, { agent, headers: { "cf-connecting-ip": randomIp() } }, (res) => {
      res.on("error", fail).resume();
      res.on("end", () => resolve({ ms: performance.now() - start, status: res.statusCode!, startedAt: start }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error("no answer within 30 s")));
    req.on("error", fail);
  });
}

/**
 * In the worker thread: warm up, then measure, with autocannon or a node:http closed loop.
 * `onStopped` comes when no new request is counted any more (node:http; autocannon: with its result).
 */
export async function generate(load: Load, onMeasuring: () => void, onStopped: () => void = () => {}): Promise<Result> {
  const url = new URL(PATH, load.url);
  if (load.startAt !== undefined) await sleep(Math.max(0, load.startAt - Date.now()));
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
    onStopped();
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
  const once = async () => {
    const answer = await timedGet(url, agent);
    if (answer === null) {
      if (state.measuring) state.errors++;
      await sleep(10); // no busy spin when the target is down
    } else if (state.measuring) {
      latencies.push(answer.ms);
      if (answer.status < 200 || answer.status > 299) state.non2xx++;
    }
  };
  const loops = Array.from({ length: load.connections }, async () => {
    while (!state.stopped) await once();
  });
  await sleep(load.warmup * 1000);
  onMeasuring();
  state.measuring = true;
  const t0 = performance.now();
  await sleep(load.seconds * 1000);
  Object.assign(state, { measuring: false, stopped: true });
  onStopped();
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(loops);
  agent.destroy();
  const [errors, non2xx, requests] = [state.errors, state.non2xx, latencies.length];
  return {
    rps: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    errors,
    non2xx,
    requests,
  };
}

/** wrk (a separate process, so the origin's event loop stays free): warm-up run, then the measured run. */
export async function runWrk(load: Load, tmp: string, onMeasuring: () => Promise<void>): Promise<Result> {
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
export function summarize(rs: Result[]) {
  type Figure = Exclude<keyof Result, "slowSentAt">;
  const of = (key: Figure) => rs.map((r) => r[key]);
  const sum = (key: Figure) => of(key).reduce((a, b) => a + b, 0);
  const rps = of("rps").sort((a, b) => a - b);
  const [min, max] = [rps[0]!, rps.at(-1)!];
  const [p50, p99] = [quantile(of("p50"), 0.5), quantile(of("p99"), 0.5)];
  const [errors, non2xx, requests] = [sum("errors"), sum("non2xx"), sum("requests")];
  return { rps: quantile(rps, 0.5), p50, p99, errors, non2xx, requests, min, max };
}

/** Callbacks of `loadInThread`, from the load generator's thread. */
export interface LoadEvents {
  readonly onMeasuring?: () => void;
  readonly onStopped?: () => void;
}

/** Runs `generate` in a worker thread (`load-thread.ts`), so this thread's event loop stays free. */
export function loadInThread(load: Load, events: LoadEvents = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./load-thread.ts", import.meta.url), { workerData: load });
    worker.on("message", (m: ThreadMessage) => {
      if (m.type === "measuring") events.onMeasuring?.();
      else if (m.type === "stopped") events.onStopped?.();
      else resolve(m.result);
    });
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
  });
}
