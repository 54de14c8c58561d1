/** What the reports say about the machine they ran on: CPU, cores, Node and the tools' versions. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** CPU model, cores and Node version: the machine line of every report. */
export function machineLine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? "unknown CPU"}, ${cpus.length} cores, Node ${process.version}`;
}

/** The first line `cmd flag` prints (its stdout, then its stderr), or null when `cmd` cannot run. */
export function firstLine(cmd: string, flag: string): string | null {
  const out = spawnSync(cmd, [flag], { encoding: "utf8" });
  if (out.error) return null; // not installed (`wrk -v` prints its version and exits 1)
  return `${out.stdout ?? ""}${out.stderr ?? ""}`.split("\n")[0]!;
}

/** A tool's version line without its web address (e.g. `haproxy -v`), or "not installed". */
export function toolVersion(cmd: string, flag: string): string {
  return (firstLine(cmd, flag) ?? "").replace(/ - https?:\S+$/, "").trim() || "not installed";
}

/** The installed version of a package in node_modules, or "not installed". */
export function packageVersion(name: string): string {
  try {
    const file = path.join(ROOT, "node_modules", name, "package.json");
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

/** The machine as BENCHMARKS.md describes it, with the load average at the start. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly os: string;
  readonly node: string;
  readonly workerd: string;
  readonly miniflare: string;
  readonly wrk: string;
  readonly haproxy: string;
  readonly nginx: string;
  readonly loadAverage: string;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  const version = (cmd: string, flag: string) => firstLine(cmd, flag)?.trim() || null;
  const wrk = version("wrk", "-v");
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown CPU",
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    workerd: packageVersion("workerd"),
    miniflare: packageVersion("miniflare"),
    wrk: wrk?.split(" [")[0] ?? "wrk not installed",
    haproxy: version("haproxy", "-v")?.replace(/ - https?:\S+$/, "") ?? "HAProxy not installed",
    nginx: version("nginx", "-v")?.replace(/^nginx version: nginx\//, "nginx ") ?? "nginx not installed",
    loadAverage: os.loadavg()[0]!.toFixed(2),
  };
}
