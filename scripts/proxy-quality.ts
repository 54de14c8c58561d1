/**
 * `npm run bench:proxies`: mapping quality through the real proxies (issue 5, "Measure" item 2,
 * second bullet). One seeded set of IPv4 clients goes through our balancer (the dist/ bundle in
 * workerd via Miniflare), HAProxy 2.6 (`balance hdr(CF-Connecting-IP)` + `hash-type consistent`,
 * default weight and `weight 100`) and nginx 1.22 (`hash $http_cf_connecting_ip consistent`), all
 * in front of the same 10 loopback origins; then origin o3 is stopped and every client is sent
 * again. Prints progress and tables, writes bench/proxy-quality.md, asserts nothing.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { mapLimit, startBalancer } from "../test/e2e/harness.ts";
import { table, writeReport } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "20000" },
    seed: { type: "string", default: "20261122" },
    concurrency: { type: "string", default: "32" },
  },
});
const CLIENTS = Number(args.clients);
const SEED = Number(args.seed) >>> 0;
const CONCURRENCY = Number(args.concurrency);
const IDS = Array.from({ length: 10 }, (_, i) => `o${i}`);
const VICTIM = "o3";
if (!(CLIENTS >= 100) || !(CONCURRENCY >= 1)) throw new RangeError("--clients must be ≥ 100, --concurrency ≥ 1");

const started = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);

// Everything started is stopped in reverse order on success and error. On Ctrl-C (whose handler
// Miniflare's own exit hook would cut short) the "exit" handler kills the proxies and removes the
// temp dirs synchronously; the origins live in this process and Miniflare stops workerd.
const cleanups: (() => unknown)[] = [];
const children = new Set<ChildProcess>();
const dirs = new Set<string>();
async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (error) {
      console.error(`cleanup: ${(error as Error).message}`);
    }
  }
}
process.on("exit", () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping everything`);
    process.exit(130);
  });
}

// mulberry32, as in ring-quality.ts: the same seed gives the same clients.
let state = SEED;
function random32(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return (t ^ (t >>> 14)) >>> 0;
}
const unique = new Set<string>();
while (unique.size < CLIENTS) {
  const a = random32();
  unique.add(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`);
}
const clients = [...unique];

/** Installs a Debian package when its binary is missing; false (with a note) if that fails. */
function ensureInstalled(binary: string, pkg: string): boolean {
  if (spawnSync("sh", ["-c", `command -v ${binary}`]).status === 0) return true;
  log(`${binary} not found: installing the Debian package "${pkg}" (apt-get install -y ${pkg})`);
  const install = () => spawnSync("apt-get", ["install", "-y", pkg], { stdio: "inherit" }).status === 0;
  if (install() || (spawnSync("apt-get", ["update"], { stdio: "inherit" }).status === 0 && install())) return true;
  log(`${binary}: install failed, skipping it`);
  return false;
}
const version = (cmd: string, flag: string) => {
  const out = spawnSync(cmd, [flag], { encoding: "utf8" });
  return (
    `${out.stdout ?? ""}${out.stderr ?? ""}`
      .split("\n")[0]!
      .replace(/ - https?:\S+$/, "")
      .trim() || "not installed"
  );
};

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a proxy as a child process and waits until its port accepts connections. */
async function spawnProxy(name: string, cmd: string, argv: string[], port: number): Promise<void> {
  const child: ChildProcess = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
  children.add(child);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  cleanups.push(() => {
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
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port}: ${stderr.trim()}`);
}

function tempDir(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `proxy-quality-${name}-`));
  dirs.add(dir);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startHaproxy(ports: number[], weight: number | null): Promise<URL> {
  const dir = tempDir("haproxy");
  const port = await freePort();
  const servers = ports.map((p, i) => `  server ${IDS[i]} 127.0.0.1:${p}${weight === null ? "" : ` weight ${weight}`}`);
  const config = `global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 2
  option redispatch
frontend fe
  bind 127.0.0.1:${port}
  default_backend origins
backend origins
  balance hdr(CF-Connecting-IP)
  hash-type consistent
${servers.join("\n")}
`;
  writeFileSync(path.join(dir, "haproxy.cfg"), config);
  await spawnProxy("haproxy", "haproxy", ["-f", path.join(dir, "haproxy.cfg"), "-db"], port);
  return new URL(`http://127.0.0.1:${port}/`);
}

async function startNginx(ports: number[]): Promise<URL> {
  const dir = tempDir("nginx");
  const port = await freePort();
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${dir}/${t};`);
  const config = `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
${temps.join("\n")}
  upstream origins {
    hash $http_cf_connecting_ip consistent;
${ports.map((p) => `    server 127.0.0.1:${p};`).join("\n")}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origins;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
  writeFileSync(path.join(dir, "nginx.conf"), config);
  const argv = ["-p", dir, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`, "-g", "daemon off;"];
  await spawnProxy("nginx", "nginx", argv, port);
  return new URL(`http://127.0.0.1:${port}/`);
}

/** One GET per client through `base`; the answering origin's id per client, or null (failure). */
async function sweep(base: URL): Promise<(string | null)[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    return await mapLimit(clients, CONCURRENCY, (ip) => {
      return new Promise<string | null>((resolve) => {
        const req = http.get(
          { host: base.hostname, port: base.port, path: "/bench", agent, headers: { "cf-connecting-ip": ip } },
          (res) => {
            res.resume();
            const origin = res.headers["x-origin-id"];
            const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300 && typeof origin === "string";
            res.on("end", () => resolve(ok ? (origin as string) : null));
            res.on("error", () => resolve(null));
          },
        );
        req.setTimeout(15_000, () => req.destroy());
        req.on("error", () => resolve(null));
      });
    });
  } finally {
    agent.destroy();
  }
}

interface Proxy {
  readonly name: string;
  readonly url: URL;
  before?: (string | null)[];
  after?: (string | null)[];
}
const proxies: Proxy[] = [];
const notes: string[] = [];

try {
  log("building the worker: wrangler deploy --dry-run --outdir dist");
  const wrangler = path.join(path.dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin");
  execFileSync(process.execPath, [path.join(wrangler, "wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  const balancer = await startBalancer(IDS, { HEALTH_INTERVAL_MS: "0", DEBUG_HEADERS: "true" });
  cleanups.push(() => balancer.close());
  const ports = balancer.origins.map((o) => o.port);
  log(`origins ${IDS.join(", ")} on 127.0.0.1:${ports.join(", ")}; balancer at ${balancer.url.href}`);
  proxies.push({ name: "ours (workerd)", url: balancer.url });
  if (ensureInstalled("haproxy", "haproxy")) {
    proxies.push({ name: "HAProxy, weight 1 (default)", url: await startHaproxy(ports, null) });
    proxies.push({ name: "HAProxy, weight 100", url: await startHaproxy(ports, 100) });
  } else notes.push("HAProxy was skipped: `apt-get install haproxy` failed.");
  if (ensureInstalled("nginx", "nginx")) proxies.push({ name: "nginx", url: await startNginx(ports) });
  else notes.push("nginx was skipped: `apt-get install nginx` failed.");
  for (const p of proxies) log(`${p.name} listening at ${p.url.href}`);

  for (const p of proxies) {
    const t = performance.now();
    p.before = await sweep(p.url);
    const failed = p.before.filter((o) => o === null).length;
    log(`${p.name}: ${CLIENTS} clients in ${((performance.now() - t) / 1000).toFixed(1)} s, ${failed} failed`);
  }
  await balancer.origins.find((o) => o.id === VICTIM)!.stop();
  log(`${VICTIM} stopped; sending every client again`);
  for (const p of proxies) {
    const t = performance.now();
    p.after = await sweep(p.url);
    const failed = p.after.filter((o) => o === null).length;
    log(`${p.name}: ${CLIENTS} clients in ${((performance.now() - t) / 1000).toFixed(1)} s, ${failed} failed`);
  }
} finally {
  await cleanup();
}

const pct = (n: number, of = CLIENTS) => `${((n / of) * 100).toFixed(2)} %`;
const balanceRows = proxies.map((p) => {
  const counts = IDS.map((id) => p.before!.filter((o) => o === id).length);
  const mean = counts.reduce((x, y) => x + y, 0) / IDS.length;
  const failed = p.before!.filter((o) => o === null).length;
  return [
    p.name,
    ...counts.map(String),
    (Math.max(...counts) / mean).toFixed(3),
    (Math.min(...counts) / mean).toFixed(3),
    String(failed),
  ];
});
const moveRows = proxies.map((p) => {
  let onVictim = 0;
  let hadTo = 0;
  let collateral = 0;
  let failed = 0;
  for (let i = 0; i < CLIENTS; i++) {
    const [before, after] = [p.before![i], p.after![i]];
    if (after === null) failed++;
    if (before === VICTIM) onVictim++;
    if (before === null || after === null || before === after) continue;
    if (before === VICTIM) hadTo++;
    else collateral++;
  }
  return [p.name, pct(onVictim), pct(hadTo + collateral), pct(hadTo), pct(collateral), pct(failed)];
});

const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
const command = ["npx node scripts/proxy-quality.ts", ...process.argv.slice(2)].join(" ");
const markdown = `# Mapping quality through the real proxies

Machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${version("haproxy", "-v")}, ${version("nginx", "-v")}. Clients: ${CLIENTS.toLocaleString("en")} distinct IPv4 addresses (seed ${SEED}), one GET each with \`CF-Connecting-IP\`, ${CONCURRENCY} at a time over keep-alive. Command: \`${command}\`.

Ten origins \`o0\` … \`o9\` on 127.0.0.1 (scripts/demo-origins.ts), shared by every proxy. Ours: the dist/ bundle in workerd (Miniflare), \`HEALTH_INTERVAL_MS=0\`. HAProxy: \`balance hdr(CF-Connecting-IP)\` + \`hash-type consistent\`, \`mode http\`, no health checks, default weight 1 (16 ring points per server) or \`weight 100\`. nginx: \`hash $http_cf_connecting_ip consistent\` with defaults (\`max_fails=1 fail_timeout=10s\`, \`proxy_next_upstream error timeout\`).

## Balance: clients per origin

${table(["proxy", ...IDS, "peak/mean", "min/mean", "failed"], balanceRows)}

Goal (issue 5) for 10 origins: peak/mean ≤ 1.02 at 1M clients. At ${CLIENTS.toLocaleString("en")} clients sampling alone spreads each origin's count by about ±${((1 / Math.sqrt(CLIENTS / IDS.length)) * 100).toFixed(1)} % (one standard deviation), so these figures show gross imbalance only; scripts/ring-quality.ts measures the fine one.

## \`${VICTIM}\` stopped: every client sent again

${table(["proxy", `clients on ${VICTIM} before (ideal move)`, "moved", `had to move (were on ${VICTIM})`, "collateral (moved, were not)", "failed requests (non-2xx)"], moveRows)}

Shares are of all ${CLIENTS.toLocaleString("en")} clients. No proxy is told that \`${VICTIM}\` died: each learns it from refused connections. nginx retries the next server by default (\`proxy_next_upstream error\`) and marks it failed for \`fail_timeout\`. HAProxy needs \`retries 2\` and \`option redispatch\` (set here) to send a refused request to another server on its last retry, after a turn-around delay of up to 1 s per retry; without them those clients get 503. Ours retries the ring's next origin (\`MAX_ATTEMPTS\`).
${notes.length > 0 ? "\n" + notes.join("\n\n") + "\n" : ""}`;

await writeReport("proxy-quality.md", markdown);
