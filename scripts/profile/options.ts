/**
 * The command line `npm run profile` and `npm run profile:alloc` share: the load, the rounds, the
 * sampling interval (µs for the CPU profiler, bytes for the heap sampler), a baseline revision and
 * where the report goes; and the settings every profile report states.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { log } from "../lib/log.ts";
import { machineLine, packageVersion } from "../lib/machine.ts";
import { BENCH_DIR } from "../lib/report.ts";
import type { Load } from "../bench-worker/load.ts";

export interface ProfileOptions {
  readonly seconds: number;
  readonly warmup: number;
  readonly connections: number;
  readonly interval: number;
  readonly rounds: number;
  readonly baseline: string | undefined;
  readonly apart: boolean;
  readonly quick: boolean;
  readonly out: string;
  readonly root: string;
  readonly generator: Load["generator"];
  readonly generatorLabel: string;
  readonly loadAverage: string;
}

/** What every profile report states about how it was taken. */
export interface ProfileSettings {
  readonly command: string;
  readonly quick: boolean;
  readonly machine: string;
  readonly wrangler: string;
  readonly workerd: string;
  readonly connections: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly generatorLabel: string;
  readonly pinning: string;
  readonly loadAverage: string;
}

/**
 * Parses the command line. `--quick`: 1 round of 3 s after 1 s of warm-up, into a fresh temp dir
 * named after `name` unless `--out` is given (explicit options still win).
 */
export function profileOptions(
  name: string,
  defaults: { readonly interval: number; readonly minInterval: number; readonly rounds: number },
): ProfileOptions {
  const str = { type: "string" } as const;
  const { values: v } = parseArgs({
    options: {
      seconds: str,
      warmup: str,
      connections: str,
      interval: str,
      rounds: str,
      baseline: str,
      apart: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      out: str,
    },
  });
  const q = v.quick;
  const [seconds, warmup, connections, interval, rounds] = [
    v.seconds ?? (q ? 3 : 10),
    v.warmup ?? (q ? 1 : 2),
    v.connections ?? 50,
    v.interval ?? defaults.interval,
    v.rounds ?? (q ? 1 : defaults.rounds),
  ].map(Number) as [number, number, number, number, number];
  const valid = seconds > 0 && warmup >= 0 && connections >= 1 && interval >= defaults.minInterval && rounds >= 1;
  if (!valid) throw new Error("bad numeric option");
  const out = v.out ?? (q ? fs.mkdtempSync(path.join(os.tmpdir(), `${name}-quick-`)) : BENCH_DIR);
  const root = path.resolve(import.meta.dirname, "../..");
  // bench:worker's generators that run in a thread of this process (wrk would need a Lua script of its own).
  const [generator, generatorLabel] = fs.existsSync(path.join(root, "node_modules/autocannon"))
    ? (["autocannon", "autocannon in a worker thread of this process"] as const)
    : (["node:http", "node:http loop in a worker thread of this process (no autocannon)"] as const);
  const loadAverage = os.loadavg()[0]!.toFixed(2);
  if (Number(loadAverage) > 1) log(`warning: 1-min load average is ${loadAverage}; something else is busy`);
  const common = { seconds, warmup, connections, interval, rounds, baseline: v.baseline, apart: v.apart };
  return { ...common, quick: q, out, root, generator, generatorLabel, loadAverage };
}

/** The settings a report states, for the script at `script` run with `o`, pinned as `pinning` says. */
export function profileSettings(script: string, o: ProfileOptions, pinning: string): ProfileSettings {
  return {
    command: [`node ${script}`, ...process.argv.slice(2)].join(" "),
    quick: o.quick,
    machine: machineLine(),
    wrangler: packageVersion("wrangler"),
    workerd: packageVersion("workerd"),
    connections: o.connections,
    seconds: o.seconds,
    warmup: o.warmup,
    rounds: o.rounds,
    generatorLabel: o.generatorLabel,
    pinning,
    loadAverage: o.loadAverage,
  };
}
