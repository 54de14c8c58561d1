/** Where one `npm run bench` writes, how it runs its parts, and its progress lines. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { now, seconds } from "../lib/log.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export interface BenchRun {
  readonly quick: boolean;
  /** BENCHMARKS.md goes here. */
  readonly out: string;
  /** The parts' reports and JSON: `out`/bench. */
  readonly partsDir: string;
  readonly chartsDir: string;
  /** The parts' --out (they run in the repository root): relative when inside it, so their commands read well. */
  readonly outArg: string;
  readonly partTimeoutMs: number;
  /** How this run was started, as BENCHMARKS.md quotes it. */
  readonly command: string;
}

/**
 * Full run: BENCHMARKS.md in the repository root, the parts' files in bench/. --quick: a fresh
 * temp directory unless --out says otherwise, so a quick run never overwrites the committed results.
 */
export function benchRun(args: { quick: boolean; out?: string }, argv: readonly string[]): BenchRun {
  const out = path.resolve(args.out ?? (args.quick ? fs.mkdtempSync(path.join(os.tmpdir(), "bench-quick-")) : ROOT));
  const partsDir = path.join(out, "bench");
  return {
    quick: args.quick,
    out,
    partsDir,
    chartsDir: path.join(partsDir, "charts"),
    outArg: partsDir.startsWith(ROOT + path.sep) ? path.relative(ROOT, partsDir) : partsDir,
    partTimeoutMs: (args.quick ? 10 : 90) * 60_000,
    command:
      process.env.npm_lifecycle_event === "bench"
        ? `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`
        : `node scripts/bench.ts${argv.length > 0 ? ` ${argv.join(" ")}` : ""}`,
  };
}

/** A progress line of the bench, with the time since it started. */
export const benchLog = (line: string): void => console.log(`[bench ${seconds(now())}] ${line}`);
