/**
 * worker-allocations.md: bytes each worker allocates per request (V8's sampling heap profiler,
 * allocations.ts), by source file and by function.
 */
import { table } from "../lib/markdown.ts";
import type { FigureTable } from "../lib/part-result.ts";
import type { Result } from "../bench-worker/load.ts";
import type { Allocations } from "./allocations.ts";
import type { ProfileSettings } from "./options.ts";

export interface AllocatedTarget {
  readonly name: string;
  readonly label: string;
  readonly load: Result;
  readonly allocations: Allocations;
}

export interface AllocationRun extends ProfileSettings {
  readonly intervalBytes: number;
  readonly targets: readonly AllocatedTarget[];
}

const TOP = { current: 25, baseline: 10, bare: 10 } as Record<string, number>;
const perRequest = (bytes: number, t: AllocatedTarget) => (bytes / t.load.requests).toFixed(0);
const pct = (x: number, of: number) => `${((x / of) * 100).toFixed(1)} %`;

/** The figures of a run as tables: bytes per request per worker, then by file and by function per worker. */
export function allocationTables(run: AllocationRun): FigureTable[] {
  const bare = run.targets.find((t) => t.name === "bare");
  const perBare = (t: AllocatedTarget) =>
    bare === undefined
      ? ""
      : `×${(t.allocations.bytes / t.load.requests / (bare.allocations.bytes / bare.load.requests)).toFixed(2)}`;
  const totals: FigureTable = {
    title: "Bytes allocated per request",
    head: ["worker", "requests", "bytes / request", "in its script's functions", "in built-ins", "× the bare worker's"],
    rows: run.targets.map((t) => {
      const a = t.allocations;
      return [
        t.label,
        t.load.requests.toLocaleString("en"),
        perRequest(a.bytes, t),
        perRequest(a.scripted, t),
        perRequest(a.bytes - a.scripted, t),
        perBare(t),
      ];
    }),
  };
  const detail = run.targets.flatMap((t): FigureTable[] => {
    const a = t.allocations;
    const top = Math.min(TOP[t.name] ?? 10, a.byFunction.length);
    return [
      {
        title: `By source file: ${t.label} (bytes per request; share of its bytes)`,
        head: ["file", "bytes / request", "share"],
        rows: a.byFile.map((f) => [f.file, perRequest(f.bytes, t), pct(f.bytes, a.bytes)]),
      },
      {
        title: `By function: ${t.label}, top ${top} of ${a.byFunction.length}`,
        head: ["function", "file:line", "bytes / request", "share"],
        rows: a.byFunction
          .slice(0, top)
          .map((f) => [
            f.name,
            f.line > 0 ? `${f.file}:${f.line}` : f.file,
            perRequest(f.bytes, t),
            pct(f.bytes, a.bytes),
          ]),
      },
    ];
  });
  return [totals, ...detail];
}

/** The report's Markdown, before formatting. */
export function allocationReport(run: AllocationRun): string {
  const show = (t: FigureTable) => [`## ${t.title}`, "", table(t.head, t.rows), ""];
  const mapped = run.targets
    .map((t) => `${t.label}: ${pct(t.allocations.mapped, Math.max(1, t.allocations.scripted))} of its script's bytes`)
    .join("; ");
  const text = [
    `Machine: ${run.machine}; wrangler ${run.wrangler} (workerd ${run.workerd}). Each worker under ` +
      "`wrangler dev --no-bundle --inspector-port`, as in `npm run profile` (the balancer built from this tree, the " +
      "bare worker bench:worker's pass-through), in front of the same 3 node:http origins. Load: " +
      `${run.generatorLabel}, ${run.connections} connections, ${run.warmup} s warm-up, then ${run.seconds} s ` +
      `recorded, GET /bench from a fresh random CF-Connecting-IP per request; ${run.rounds} round` +
      `${run.rounds > 1 ? "s in alternating order, each in a fresh `wrangler dev`, bytes and requests summed per worker" : ""}. ` +
      "V8's sampling heap profiler over the Chrome DevTools Protocol (`HeapProfiler.startSampling`, " +
      `one sample per ${run.intervalBytes} bytes on average, objects freed by either collector kept), started when ` +
      "the load generator starts counting requests and stopped when it stops. " +
      `Pinning: ${run.pinning}. 1-min load average at start: ${run.loadAverage}. ${new Date().toISOString()}`,
    "",
    "Bytes are V8's estimate of everything allocated on the isolate's JavaScript heap, freed or not: what fills " +
      "the young generation and so sets how often the scavenger stops the isolate. The balancer's Durable Object " +
      "runs in the same isolate, so its allocations are in its figures. Runtime APIs written in C++ allocate " +
      "their JavaScript wrappers and strings on this heap (`(workerd built-ins)`); their own C++ memory is not " +
      `counted. Source-mapped: ${mapped}.`,
    "",
    ...allocationTables(run).flatMap(show),
  ].join("\n");
  return `# Worker allocations\n\n${text}\n`;
}
