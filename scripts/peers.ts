/**
 * Shared by scripts/proxy-quality.ts and scripts/failover-cost.ts: progress lines with the elapsed
 * time, stopping everything a script started (on success, on error and on Ctrl-C), building the
 * worker, HAProxy and nginx from Debian in front of loopback origins, seeded clients and one GET
 * as a given client address.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const started = performance.now();

/** Milliseconds since this module was loaded (the script's start): one clock for every timing. */
export const now = (): number => performance.now() - started;

/** A progress line, prefixed with the elapsed time. */
export function log(line: string): void {
  console.log(`[${(now() / 1000).toFixed(1)} s] ${line}`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Everything started is stopped in reverse order, on success and on error (`cleanup`). On Ctrl-C
// or SIGTERM, Miniflare's own exit hook stops workerd and exits at once, so asynchronous cleanup
// cannot run: the "exit" handler then kills the proxies and removes the temp dirs synchronously,
// and the origins (servers in this process) end with it.
const cleanups: (() => Promise<void>)[] = [];
const children = new Set<ChildProcess>();
const dirs = new Set<string>();

/**
 * Registers `stop` to run at `cleanup()` (last registered, first stopped) and returns it wrapped:
 * idempotent, and unregistered once called, so a script can stop a thing early.
 */
export function onCleanup(stop: () => unknown): () => Promise<void> {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    const index = cleanups.indexOf(once);
    if (index >= 0) cleanups.splice(index, 1);
    await stop();
  };
  cleanups.push(once);
  return once;
}

/** Stops everything still registered, newest first; errors are printed, not thrown. */
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (error) {
      console.error(`cleanup: ${(error as Error).message}`);
    }
  }
}

/** Installs the exit and signal handlers (once per script, before starting anything). */
export function installExitHandlers(): void {
  process.on("exit", () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping everything`);
      process.exit(130);
    });
  }
}

/** Builds dist/ as `npm run build` does (`wrangler deploy --dry-run --outdir dist`). */
export function buildWorker(): void {
  log("building the worker: wrangler deploy --dry-run --outdir dist");
  const wrangler = path.join(path.dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin");
  execFileSync(process.execPath, [path.join(wrangler, "wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
}

/** Installs a Debian package when its binary is missing; false (with a note) if that fails. */
export function ensureInstalled(binary: string, pkg: string): boolean {
  if (spawnSync("sh", ["-c", `command -v ${binary}`]).status === 0) return true;
  log(`${binary} not found: installing the Debian package "${pkg}" (apt-get install -y ${pkg})`);
  const install = () => spawnSync("apt-get", ["install", "-y", pkg], { stdio: "inherit" }).status === 0;
  if (install() || (spawnSync("apt-get", ["update"], { stdio: "inherit" }).status === 0 && install())) return true;
  log(`${binary}: install failed, skipping it`);
  return false;
}

/** The first line of `cmd flag` (e.g. `haproxy -v`), or "not installed". */
export function version(cmd: string, flag: string): string {
  const out = spawnSync(cmd, [flag], { encoding: "utf8" });
  return (
    `${out.stdout ?? ""}${out.stderr ?? ""}`
      .split("\n")[0]!
      .replace(/ - https?:\S+$/, "")
      .trim() || "not installed"
  );
}

/** CPU model, cores and Node version, for the reports. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${cpu}, ${os.cpus().length} cores, Node ${process.version}`;
}

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a proxy as a child process and waits until its port accepts connections; returns its stop. */
async function spawnProxy(name: string, cmd: string, argv: string[], port: number): Promise<() => Promise<void>> {
  const child: ChildProcess = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
  children.add(child);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = onCleanup(() => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    return exited;
  });
  for (let tries = 0; tries < 100; tries++) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${stderr.trim()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return stop;
    await sleep(50);
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port}: ${stderr.trim()}`);
}

/** A temp dir removed at cleanup (and at exit). */
function tempDir(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  dirs.add(dir);
  onCleanup(() => {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  });
  return dir;
}

/** A proxy started by `startHaproxy` or `startNginx`. */
export interface RunningProxy {
  readonly url: URL;
  /** The configuration file as written. */
  readonly config: string;
  /** HAProxy only: the admin socket (`show stat`). */
  readonly statsSocket: string | null;
  stop(): Promise<void>;
}

/** A loopback origin as the peers see it. */
export interface OriginAddress {
  readonly id: string;
  readonly port: number;
}

export interface HaproxyOptions {
  readonly origins: readonly OriginAddress[];
  /** `weight N` on every server, or null for HAProxy's default (1). */
  readonly weight?: number | null;
  /** The `defaults` section's lines after `mode http`. */
  readonly defaults?: readonly string[];
  /** Extra `backend` lines (after `balance` and `hash-type`). */
  readonly backend?: readonly string[];
  /** Appended to every `server` line (e.g. "check"). */
  readonly serverOptions?: string;
  /** Opens an admin socket for `show stat`. */
  readonly stats?: boolean;
}

export const HAPROXY_DEFAULTS = [
  "timeout connect 1s",
  "timeout client 30s",
  "timeout server 30s",
  "retries 2",
  "option redispatch",
];

/** HAProxy with `balance hdr(CF-Connecting-IP)` + `hash-type consistent` in front of `origins`. */
export async function startHaproxy(options: HaproxyOptions): Promise<RunningProxy> {
  const dir = tempDir("haproxy");
  const port = await freePort();
  const weight = options.weight ?? null;
  const extra = `${weight === null ? "" : ` weight ${weight}`}${options.serverOptions ? ` ${options.serverOptions}` : ""}`;
  const socket = path.join(dir, "admin.sock");
  const indent = (lines: readonly string[]) => lines.map((line) => `  ${line}\n`).join("");
  const config = `global
  maxconn 4096
${options.stats === true ? `  stats socket ${socket} mode 600 level admin\n` : ""}defaults
  mode http
${indent(options.defaults ?? HAPROXY_DEFAULTS)}frontend fe
  bind 127.0.0.1:${port}
  default_backend origins
backend origins
  balance hdr(CF-Connecting-IP)
  hash-type consistent
${indent(options.backend ?? [])}${indent(options.origins.map((o) => `server ${o.id} 127.0.0.1:${o.port}${extra}`))}`;
  writeFileSync(path.join(dir, "haproxy.cfg"), config);
  const stop = await spawnProxy("haproxy", "haproxy", ["-f", path.join(dir, "haproxy.cfg"), "-db"], port);
  return {
    url: new URL(`http://127.0.0.1:${port}/`),
    config,
    statsSocket: options.stats === true ? socket : null,
    stop,
  };
}

/** The `status` column of `show stat` for each server of backend "origins" (e.g. "UP", "DOWN 1/2"). */
export function haproxyServerStatus(socketPath: string): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = net.connect(socketPath, () => socket.write("show stat\n"));
    socket.setTimeout(2_000, () => socket.destroy(new Error("haproxy stats socket timed out")));
    socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
    socket.on("error", reject);
    socket.on("end", () => {
      const [head, ...rows] = text.trim().split("\n");
      const columns = (head ?? "").replace(/^# /, "").split(",");
      const [px, sv, st] = ["pxname", "svname", "status"].map((c) => columns.indexOf(c));
      const result = new Map<string, string>();
      for (const row of rows) {
        const cells = row.split(",");
        if (cells[px!] === "origins" && cells[sv!] !== "BACKEND") result.set(cells[sv!]!, cells[st!]!);
      }
      resolve(result);
    });
  });
}

export interface NginxOptions {
  readonly origins: readonly OriginAddress[];
  /** Appended to every upstream `server` line (e.g. "max_fails=0"). */
  readonly serverParams?: string;
  /** Extra `location /` lines. */
  readonly location?: readonly string[];
}

/** nginx with `hash $http_cf_connecting_ip consistent` in front of `origins`. */
export async function startNginx(options: NginxOptions): Promise<RunningProxy> {
  const dir = tempDir("nginx");
  const port = await freePort();
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${dir}/${t};`);
  const params = options.serverParams ? ` ${options.serverParams}` : "";
  const config = `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
${temps.join("\n")}
  upstream origins {
    hash $http_cf_connecting_ip consistent;
${options.origins.map((o) => `    server 127.0.0.1:${o.port}${params};`).join("\n")}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origins;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
${(options.location ?? []).map((line) => `      ${line}\n`).join("")}    }
  }
}
`;
  writeFileSync(path.join(dir, "nginx.conf"), config);
  const argv = ["-p", dir, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`, "-g", "daemon off;"];
  const stop = await spawnProxy("nginx", "nginx", argv, port);
  return { url: new URL(`http://127.0.0.1:${port}/`), config, statsSocket: null, stop };
}

/** mulberry32, as in ring-quality.ts: the same seed gives the same sequence of 32-bit numbers. */
export function random32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** `count` distinct seeded IPv4 addresses in dotted form. */
export function ipv4Clients(count: number, seed: number): string[] {
  const next = random32(seed);
  const unique = new Set<string>();
  while (unique.size < count) {
    const a = next();
    unique.add(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`);
  }
  return [...unique];
}

/** What a client saw of one GET. */
export interface Reply {
  /** The HTTP status, or 0 when the request failed (connection error, client time-out). */
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** When it was sent (`now()`), and how long until the whole response had arrived. */
  readonly sentAt: number;
  readonly ms: number;
}

/** One GET to `base` as client `ip` (`CF-Connecting-IP`); never rejects. */
export function get(base: URL, ip: string, agent: http.Agent, timeoutMs = 60_000, target = "/bench"): Promise<Reply> {
  const sentAt = now();
  return new Promise<Reply>((resolve) => {
    const done = (status: number, headers: http.IncomingHttpHeaders = {}) =>
      resolve({ status, headers, sentAt, ms: now() - sentAt });
    const req = http.get(
      { host: base.hostname, port: base.port, path: target, agent, headers: { "cf-connecting-ip": ip } },
      (res) => {
        res.resume();
        res.on("end", () => done(res.statusCode ?? 0, res.headers));
        res.on("error", () => done(0));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on("error", () => done(0));
  });
}

/** The origin id a reply came from (the demo origins' `X-Origin-Id`), or null for a failure. */
export function servedBy(reply: Reply): string | null {
  const origin = reply.headers["x-origin-id"];
  return reply.status >= 200 && reply.status < 300 && typeof origin === "string" ? origin : null;
}

/** A Markdown table with every column left-aligned (for prose cells, e.g. goals). */
export function textTable(head: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, "\\|");
  return [head, head.map(() => "---"), ...rows].map((cells) => `| ${cells.map(escape).join(" | ")} |`).join("\n");
}

/** A script's goals as `{ goal, met, detail }`, rendered as a table. */
export interface Goal {
  readonly goal: string;
  readonly met: boolean;
  readonly detail: string;
}
export function goalTable(goals: readonly Goal[]): string {
  return textTable(
    ["goal", "met", "detail"],
    goals.map((g) => [g.goal, g.met ? "yes" : "**missed**", g.detail]),
  );
}
