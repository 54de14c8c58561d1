/**
 * Stopping everything a script started, on success, on error and on Ctrl-C. Everything registered
 * is stopped in reverse order by `cleanup()`. On Ctrl-C or SIGTERM, Miniflare's own exit hook stops
 * workerd and exits at once, so asynchronous cleanup cannot run: the "exit" handler of
 * `installExitHandlers` then kills the child processes and removes the temp dirs synchronously,
 * and servers in the script's own process end with it.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { log } from "./log.ts";

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

/** A child process killed at exit if it still runs (see `installExitHandlers`). */
export function killAtExit(child: ChildProcess): void {
  children.add(child);
}

/** A temp dir `bench-<name>-…`, removed at cleanup (and at exit). */
export function tempDir(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  dirs.add(dir);
  onCleanup(() => {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  });
  return dir;
}

/** Signals a process group (a child started with `detached: true`); nothing if it is gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
