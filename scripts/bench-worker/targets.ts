/**
 * What the throughput bench loads, each in its own Miniflare: a bare pass-through worker (the
 * runtime's floor), the balancer built from this tree, and with --baseline the balancer built
 * from that revision; all in front of the same three loopback origins.
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { onCleanup, tempDir } from "../lib/cleanup.ts";
import { pinWorkerdApart, type Pinning } from "../lib/taskset.ts";
import { log } from "../lib/log.ts";
import { quietEnv, WRANGLER_JS } from "../lib/wrangler.ts";

export interface Target {
  readonly name: string;
  readonly options: object;
}

/**
 * What every paired bench starts with: a temp dir named after it, workerd pinned apart from this
 * process (scripts/lib/taskset.ts, logged) and the three plain origins.
 */
export async function pinnedSetup(label: string): Promise<{ tmp: string; pinning: Pinning; origins: string[] }> {
  const tmp = tempDir(label);
  const pinning = pinWorkerdApart(tmp);
  log(`pinning: ${pinning.note}`);
  return { tmp, pinning, origins: await startPlainOrigins() };
}

/** Three node:http origins on loopback answering "ok"; closed at cleanup. */
export async function startPlainOrigins(): Promise<string[]> {
  const origins: string[] = [];
  for (let i = 0; i < 3; i++) {
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/plain", "content-length": "3" }).end("ok\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origins.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    onCleanup(() => new Promise((resolve) => (server.close(resolve), server.closeAllConnections())));
  }
  return origins;
}

/** Bundles the worker in `dir` exactly as `wrangler deploy` would, into `tmp`; returns the script's path. */
export function build(label: string, dir: string, tmp: string): string {
  const outdir = path.join(tmp, `${label}-dist`);
  const started = performance.now();
  const args = [WRANGLER_JS, "deploy", "--dry-run", "--outdir", outdir];
  let out: string;
  try {
    out = execFileSync(process.execPath, args, { cwd: dir, env: quietEnv(), encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    process.stderr.write(`${e.stdout ?? ""}${e.stderr ?? ""}`);
    throw new Error(`wrangler could not build ${label} (output above)`);
  }
  const size = /Total Upload: ([^\n]+)/.exec(out)?.[1]?.trim() ?? "size not reported";
  log(`built ${label} in ${((performance.now() - started) / 1000).toFixed(1)} s (${size})`);
  const js = fs.readdirSync(outdir).filter((f) => f.endsWith(".js"));
  return path.join(outdir, js.includes("index.js") ? "index.js" : js[0]!);
}

/**
 * Miniflare options for the balancer in `dir` (its wrangler.toml), as test/e2e/harness.ts builds
 * them: `origins` as URLs (named origin-1, origin-2, ...) or with their ids, `extra` bindings on top.
 */
export async function balancerOptions(
  dir: string,
  scriptPath: string,
  origins: readonly (string | { readonly id: string; readonly url: string })[],
  extra: Readonly<Record<string, unknown>> = {},
) {
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(dir, "wrangler.toml"));
  const list = origins.map((o, i) => (typeof o === "string" ? { id: `origin-${i + 1}`, url: o } : o));
  return {
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags,
    durableObjects: workerOptions.durableObjects,
    modules: true,
    scriptPath,
    modulesRoot: path.dirname(scriptPath), // the bundle lives outside the cwd
    bindings: { ...(workerOptions.bindings as Record<string, unknown>), ORIGINS: JSON.stringify(list), ...extra },
  };
}

/**
 * The floor: the same origins, spread the way the `% N` Worker balancers do (a string hash of the
 * client address modulo the origin count), so both targets pay the same origin fan-out and
 * connection pools, and the difference is the balancer's own work.
 */
export function bareOptions(tmp: string, origins: readonly string[], compatibilityDate: unknown) {
  const barePath = path.join(tmp, "bare.js");
  fs.writeFileSync(
    barePath,
    `const ORIGINS = ${JSON.stringify(origins)};\n` +
      `export default { fetch(req) { const ip = req.headers.get("cf-connecting-ip") ?? ""; let h = 0;\n` +
      `  for (let i = 0; i < ip.length; i++) h = (h * 31 + ip.charCodeAt(i)) | 0;\n` +
      `  const u = new URL(req.url); return fetch(ORIGINS[(h >>> 0) % ORIGINS.length] + u.pathname + u.search, req); } };\n`,
  );
  return { modules: true, modulesRoot: tmp, scriptPath: barePath, compatibilityDate };
}

/** The tree at `baseline` (src, wrangler.toml, package files) extracted into `tmp`; its directory and revision. */
export function checkoutBaseline(root: string, baseline: string, tmp: string): { dir: string; rev: string } {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
  const rev = git("rev-parse", "--short", `${baseline}^{commit}`);
  const dir = path.join(tmp, "baseline");
  fs.mkdirSync(dir);
  const wanted = ["src", "wrangler.toml", "package.json", "tsconfig.json"];
  const files = wanted.filter((f) => spawnSync("git", ["cat-file", "-e", `${rev}:${f}`], { cwd: root }).status === 0);
  const tar = execFileSync("git", ["archive", rev, ...files], { cwd: root, maxBuffer: 1 << 28 });
  execFileSync("tar", ["-x", "-C", dir], { input: tar });
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  return { dir, rev };
}
