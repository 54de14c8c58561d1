/**
 * A worker under `wrangler dev` with the V8 inspector on: a bundle built beforehand, served as is
 * (`--no-bundle`, so an edit under src/ during the run does not rebuild it), in its own process group
 * (wrangler starts workerd as a child), stopped at cleanup.
 */
import { spawn } from "node:child_process";
import { killAtExit, killGroup, onCleanup } from "../lib/cleanup.ts";
import { sleep } from "../lib/log.ts";
import { freePort } from "../lib/proxy-process.ts";
import { quietEnv, WRANGLER_JS } from "../lib/wrangler.ts";

export interface DevServerOptions {
  /** The wrangler configuration (bindings, Durable Objects, compatibility date). */
  readonly config: string;
  /** The bundle to serve instead of the configuration's `main`. */
  readonly script: string;
  readonly cwd: string;
  /** Extra variables (`--var NAME:VALUE`). */
  readonly vars?: Readonly<Record<string, string>>;
  /** Local storage for the Durable Object (a temp dir, not the project's .wrangler/state). */
  readonly persistTo: string;
}

export interface DevServer {
  /** wrangler's pid: workerd runs as its child. */
  readonly pid: number;
  readonly url: string;
  readonly inspectorPort: number;
  /** What wrangler printed so far (for errors). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `wrangler dev` and waits until the worker answers (any status) or 60 s pass. */
export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const vars = Object.entries(o.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const args = [
    WRANGLER_JS,
    "dev",
    o.script,
    "--no-bundle",
    "--config",
    o.config,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    o.persistTo,
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
    ...vars,
  ];
  const child = spawn(process.execPath, args, {
    cwd: o.cwd,
    env: quietEnv(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own group: stopping it stops workerd too
  });
  killAtExit(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child.pid, "SIGTERM");
    const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    killGroup(child.pid, "SIGKILL"); // workerd, should it outlive wrangler
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output}`);
    const answered = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      async (r) => (await r.arrayBuffer(), true),
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer on ${url} within 60 s:\n${output}`);
    }
    await sleep(250);
  }
  return { pid: child.pid!, url, inspectorPort, output: () => output, stop };
}
