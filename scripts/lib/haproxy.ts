/** HAProxy with `balance hdr(CF-Connecting-IP)` + `hash-type consistent`, and its `show stat`. */
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { tempDir } from "./cleanup.ts";
import { freePort, spawnProxy, type OriginAddress, type RunningProxy } from "./proxy-process.ts";

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
