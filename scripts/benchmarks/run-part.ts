/**
 * Running one bench part as a child process (`node <script> --out DIR [--quick]`) in its own
 * process group, and collecting what it wrote: its result JSON and its Markdown report.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { killGroup } from "../lib/cleanup.ts";
import { seconds } from "../lib/log.ts";
import { readPartResult, type PartResult } from "../lib/part-result.ts";
import { quietEnv } from "../lib/wrangler.ts";
import { benchLog as log, ROOT, type BenchRun } from "./bench-run.ts";
import type { Part } from "./parts.ts";

export type Status = "ok" | "crashed" | "not run";

export interface Outcome {
  readonly part: Part;
  status: Status;
  reason: string;
  ms: number;
  data: (PartResult & Record<string, unknown>) | null;
  /** Markdown reports the part wrote during this run (file names in the parts' folder). */
  reports: string[];
}

/** The process group of the part that runs now. */
let running: number | null = null;

/** On Ctrl-C or SIGTERM, stops the running part's whole group (workerd, HAProxy, nginx) and exits. */
export function stopPartsOnSignal(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (running !== null) killGroup(running, "SIGTERM");
      process.exit(130);
    });
  }
}

/** Runs one part as a child process in its own process group; resolves with its exit description. */
function runChild(part: Part, run: BenchRun, extra: string[]): Promise<{ ok: boolean; reason: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [part.script, "--out", run.outArg, ...extra], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own group: a timeout or Ctrl-C stops workerd, HAProxy and nginx too
      env: quietEnv(),
    });
    running = child.pid ?? null;
    const prefix = (stream: NodeJS.ReadableStream, write: (s: string) => void) => {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop()!;
        for (const line of lines) write(`  ${part.id} │ ${line}\n`);
      });
      stream.on("end", () => rest && write(`  ${part.id} │ ${rest}\n`));
    };
    prefix(child.stdout!, (s) => process.stdout.write(s));
    prefix(child.stderr!, (s) => process.stderr.write(s));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      log(`${part.id}: still running after ${seconds(run.partTimeoutMs)}; stopping it`);
      killGroup(child.pid, "SIGTERM");
      setTimeout(() => killGroup(child.pid, "SIGKILL"), 10_000).unref();
    }, run.partTimeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `could not start: ${error.message}` });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      running = null;
      if (timedOut) resolve({ ok: false, reason: `timed out after ${seconds(run.partTimeoutMs)}` });
      else if (code === 0) resolve({ ok: true, reason: "" });
      else resolve({ ok: false, reason: signal ? `killed by ${signal}` : `exit status ${code}` });
    });
  });
}

const mtime = (file: string) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : -Infinity);

/** Runs part `index` of `count`; a part that is missing or takes no --quick / --out is not run. */
export async function runPart(part: Part, run: BenchRun, index: number, count: number): Promise<Outcome> {
  const outcome: Outcome = { part, status: "not run", reason: "", ms: 0, data: null, reports: [] };
  const script = path.join(ROOT, part.script);
  if (!fs.existsSync(script)) {
    outcome.reason = `${part.script} does not exist yet`;
    log(`(${index}/${count}) ${part.id}: not run: ${outcome.reason}`);
    return outcome;
  }
  // Every part takes --quick and --out; one that does not yet would crash on the unknown option,
  // or write over the committed reports: it is reported as not run instead.
  if (!/\bquick\b/.test(fs.readFileSync(script, "utf8"))) {
    outcome.reason = `${part.script} does not take --quick / --out yet`;
    log(`(${index}/${count}) ${part.id}: not run: ${outcome.reason}`);
    return outcome;
  }
  const extra = [...(part.args ?? []), ...(run.quick ? ["--quick"] : [])];
  log(`(${index}/${count}) ${part.id}: node ${part.script} --out ${run.outArg} ${extra.join(" ")}`.trimEnd());
  const t0 = performance.now();
  // What the part wrote is what changed in the folder while it ran (stale files stay unclaimed).
  const dir = run.partsDir;
  const snapshot = () => new Map(fs.readdirSync(dir).map((f) => [f, mtime(path.join(dir, f))]));
  const before = snapshot();
  const result = await runChild(part, run, extra);
  outcome.ms = performance.now() - t0;
  const written = [...snapshot()].filter(([f, t]) => before.get(f) !== t).map(([f]) => f);
  // Its own report only (another process may write into the folder meanwhile): named like its JSON.
  outcome.reports = written.filter((f) => f === part.json.replace(/\.json$/, ".md"));
  if (written.includes(part.json)) {
    try {
      outcome.data = readPartResult(path.join(dir, part.json));
    } catch (error) {
      outcome.reason = `${part.json} unreadable: ${(error as Error).message}`;
    }
  }
  if (!result.ok) {
    outcome.status = "crashed";
    outcome.reason = result.reason;
  } else {
    outcome.status = "ok";
    if (outcome.data === null && outcome.reason === "") outcome.reason = `finished but wrote no ${part.json}`;
  }
  log(
    `(${index}/${count}) ${part.id}: ${outcome.status === "ok" ? "done" : "CRASHED"} in ${seconds(outcome.ms)}` +
      (outcome.reason ? ` (${outcome.reason})` : ""),
  );
  return outcome;
}

/**
 * A part `--only` did not rerun, from the result it left in the parts' folder: BENCHMARKS.md stays
 * whole, with that part's figures as they were measured then (its reason says so). Null when it
 * left none.
 */
export function earlierOutcome(part: Part, run: BenchRun): Outcome | null {
  const file = path.join(run.partsDir, part.json);
  if (!fs.existsSync(file)) return null;
  try {
    const data = readPartResult(file);
    const report = part.json.replace(/\.json$/, ".md");
    const reports = fs.existsSync(path.join(run.partsDir, report)) ? [report] : [];
    return { part, status: "ok", reason: "kept from an earlier run, not rerun by --only", ms: 0, data, reports };
  } catch {
    return null;
  }
}
