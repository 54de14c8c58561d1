/** HAProxy and nginx as child processes of a script: installing, starting and stopping them. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";
import { killAtExit, onCleanup } from "./cleanup.ts";
import { log, sleep } from "./log.ts";

/** A proxy started by `startHaproxy` or `startNginx`. */
export interface RunningProxy {
  readonly url: URL;
  /** The configuration file as written. */
  readonly config: string;
  /** HAProxy only: the admin socket (`show stat`). */
  readonly statsSocket: string | null;
  stop(): Promise<void>;
}

/** A loopback origin as the proxies see it. */
export interface OriginAddress {
  readonly id: string;
  readonly port: number;
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

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a proxy as a child process and waits until its port accepts connections; returns its stop. */
export async function spawnProxy(
  name: string,
  cmd: string,
  argv: string[],
  port: number,
): Promise<() => Promise<void>> {
  const child: ChildProcess = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
  killAtExit(child);
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
