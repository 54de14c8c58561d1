/**
 * Pinning to CPU cores with `taskset` (util-linux): workerd on one core, this process (the load
 * generator's threads and the origins) on another, so that two workerd processes loaded at the same
 * time share one core fairly and the load generator never competes with them.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { descendants } from "./procfs.ts";

/** What was pinned where, or why nothing was: a sentence for the reports. */
export interface Pinning {
  readonly pinned: boolean;
  readonly note: string;
}

/** The workerd binary Miniflare starts (its own dependency's, unless MINIFLARE_WORKERD_PATH says otherwise). */
function workerdBinary(): string {
  if (process.env.MINIFLARE_WORKERD_PATH) return process.env.MINIFLARE_WORKERD_PATH;
  const fromMiniflare = createRequire(createRequire(import.meta.url).resolve("miniflare"));
  return (fromMiniflare("workerd") as { default: string }).default;
}

const taskset = (...args: string[]) => spawnSync("taskset", args, { encoding: "utf8" });

/**
 * Pins every thread of this process to `selfCore` (threads and children started later inherit it)
 * and makes every workerd that Miniflare starts from now on (also inside `wrangler dev`, which
 * inherits the environment) run on `workerdCore`, through a wrapper named by MINIFLARE_WORKERD_PATH.
 * Without taskset or with fewer than two cores nothing is pinned, and the note says so.
 */
export function pinWorkerdApart(dir: string, workerdCore = 1, selfCore = 0): Pinning {
  const cores = os.availableParallelism();
  if (taskset("-V").error) {
    return { pinned: false, note: "not pinned: taskset is not installed (util-linux), so the OS schedules freely" };
  }
  if (cores <= Math.max(workerdCore, selfCore)) {
    return { pinned: false, note: `not pinned: ${cores} core(s), core ${Math.max(workerdCore, selfCore)} missing` };
  }
  const self = taskset("-a", "-p", "-c", String(selfCore), String(process.pid));
  if (self.status !== 0) return { pinned: false, note: `not pinned: taskset failed: ${self.stderr.trim()}` };
  const wrapper = path.join(dir, "workerd-pinned.sh");
  const real = workerdBinary();
  // exec keeps the pid, so Miniflare stops workerd itself, and fd 3 (its control pipe) passes through.
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec taskset -c ${workerdCore} ${JSON.stringify(real)} "$@"\n`, {
    mode: 0o755,
  });
  process.env.MINIFLARE_WORKERD_PATH = wrapper;
  return {
    pinned: true,
    note:
      `every workerd on core ${workerdCore} (\`taskset -c ${workerdCore}\`); this process — the load generator's ` +
      `threads and the origins — on core ${selfCore} (\`taskset -a -p -c ${selfCore}\`)`,
  };
}

/** The cores a process may run on, as taskset prints them (e.g. "1"), or null when unknown. */
export function affinityOf(pid: number): string | null {
  const out = taskset("-c", "-p", String(pid));
  return out.status === 0 ? (/:\s*(\S+)\s*$/.exec(out.stdout.trim())?.[1] ?? null) : null;
}

/** This process's descendants named `comm` (e.g. "workerd"), each with the cores it may run on. */
export function descendantCores(comm: string): { pid: number; cores: string | null }[] {
  return descendants(comm).map((pid) => ({ pid, cores: affinityOf(pid) }));
}
