/**
 * Self time from a V8 CPU profile by counting samples: each sample is one tick of the isolate's own
 * work charged to the function on top of its stack. DevTools instead weights each sample by the time
 * since the previous one, which charges the gaps while workerd runs other isolates (or nothing) to
 * whatever happened to be on the stack (`new Response`, `clearTimeout`); counts do not.
 */
import type { Locate } from "./source-map.ts";

export interface CallFrame {
  readonly functionName: string;
  readonly scriptId: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

/** Profiler.stop's profile (Chrome DevTools Protocol `Profiler.Profile`). */
export interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: CallFrame }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  /** µs. */
  readonly startTime: number;
  readonly endTime: number;
}

export interface FunctionRow {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly samples: number;
}

export interface SelfTime {
  /** Every sample taken. */
  readonly samples: number;
  /** Samples in the worker's own JavaScript: every sample but (program), (idle) and (root); GC included. */
  readonly js: number;
  /** Inside the isolate but in no JavaScript frame (workerd's own C++ on the isolate's thread). */
  readonly program: number;
  readonly idle: number;
  readonly gc: number;
  /** Samples in the scripts' own functions (not built-ins, not GC), and how many of them the source map placed. */
  readonly scripted: number;
  readonly mapped: number;
  readonly byFunction: readonly FunctionRow[];
  readonly byFile: readonly { readonly file: string; readonly samples: number }[];
  /** Profiler.stop's endTime − startTime, µs. */
  readonly spanUs: number;
}

/** Runtime APIs implemented in C++ (fetch, Response, Headers, setTimeout…) have no script. */
export const NATIVE = "(workerd built-ins)";
const NOT_JS = new Set(["(program)", "(idle)", "(root)"]);

/** Counts the samples by the function on top of the stack and by its source file. */
export function selfTime(profile: CpuProfile, locate: Locate): SelfTime {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const perNode = new Map<number, number>();
  for (const id of profile.samples) perNode.set(id, (perNode.get(id) ?? 0) + 1);
  const functions = new Map<string, { name: string; file: string; line: number; samples: number }>();
  let [program, idle, gc, js, mapped, scripted] = [0, 0, 0, 0, 0, 0];
  for (const [id, count] of perNode) {
    const f = frames.get(id)!;
    if (f.functionName === "(program)") program += count;
    if (f.functionName === "(idle)") idle += count;
    if (NOT_JS.has(f.functionName)) continue;
    js += count;
    const vm = f.functionName === "(garbage collector)";
    if (vm) gc += count;
    const native = !vm && (f.scriptId === "0" || f.url === "");
    const place = vm || native ? null : locate(f.scriptId, f.url, f.lineNumber, f.columnNumber);
    if (place !== null) scripted += count;
    if (place?.mapped) mapped += count;
    const name = f.functionName || "(anonymous)";
    const file = vm ? "(V8)" : (place?.file ?? NATIVE);
    const line = place?.line ?? 0;
    const key = `${name}\u0000${file}\u0000${line}`;
    const row = functions.get(key) ?? { name, file, line, samples: 0 };
    row.samples += count;
    functions.set(key, row);
  }
  const totals = { samples: profile.samples.length, js, program, idle, gc, scripted, mapped };
  return { ...totals, ...tables([...functions.values()]), spanUs: profile.endTime - profile.startTime };
}

/** The rows by function (most samples first) and their sums by file. */
function tables(rows: readonly FunctionRow[]): Pick<SelfTime, "byFunction" | "byFile"> {
  const byFunction = [...rows].sort((a, b) => b.samples - a.samples || a.name.localeCompare(b.name));
  const files = new Map<string, number>();
  for (const row of byFunction) files.set(row.file, (files.get(row.file) ?? 0) + row.samples);
  const byFile = [...files].map(([file, samples]) => ({ file, samples })).sort((a, b) => b.samples - a.samples);
  return { byFunction, byFile };
}

/** Several profiles' self time as one (counts summed, rows of the same function merged). */
export function mergeSelfTime(parts: readonly SelfTime[]): SelfTime {
  const sum = (key: "samples" | "js" | "program" | "idle" | "gc" | "scripted" | "mapped" | "spanUs") =>
    parts.reduce((total, p) => total + p[key], 0);
  const rows = new Map<string, FunctionRow>();
  for (const row of parts.flatMap((p) => p.byFunction)) {
    const key = `${row.name}\u0000${row.file}\u0000${row.line}`;
    rows.set(key, { ...row, samples: (rows.get(key)?.samples ?? 0) + row.samples });
  }
  return {
    samples: sum("samples"),
    js: sum("js"),
    program: sum("program"),
    idle: sum("idle"),
    gc: sum("gc"),
    scripted: sum("scripted"),
    mapped: sum("mapped"),
    ...tables([...rows.values()]),
    spanUs: sum("spanUs"),
  };
}
