/**
 * Bytes allocated, from V8's sampling heap profiler (HeapProfiler.startSampling): every allocation
 * is sampled with a chance that grows with its size (on average one sample per `intervalBytes`), and
 * each node's `selfSize` is V8's estimate of all the bytes allocated there. Objects a scavenge or a
 * full collection has freed by the time the profile is taken count too, so the figures are what the
 * isolate allocated, not what it still holds: what makes the young generation fill up and the
 * scavenger run.
 */
import type { Cdp } from "../lib/cdp.ts";
import type { Sampler } from "./record.ts";
import { NATIVE, type CallFrame } from "./self-time.ts";
import type { Locate } from "./source-map.ts";

/** HeapProfiler.stopSampling's profile (Chrome DevTools Protocol `HeapProfiler.SamplingHeapProfile`). */
export interface HeapProfile {
  readonly head: HeapNode;
}

interface HeapNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}

/** V8's sampling heap profiler, one sample per `intervalBytes` on average, freed objects kept. */
export function heapSampler(intervalBytes: number): Sampler<HeapProfile> {
  return {
    what: `an allocation sampled per ${intervalBytes} bytes`,
    prepare: (cdp: Cdp) => cdp.send("HeapProfiler.enable").then(() => undefined),
    start: (cdp) =>
      cdp.send("HeapProfiler.startSampling", {
        samplingInterval: intervalBytes,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      }),
    stop: async (cdp) => {
      const { profile } = await cdp.send<{ profile: HeapProfile }>("HeapProfiler.stopSampling");
      await cdp.send("HeapProfiler.disable");
      return profile;
    },
  };
}

export interface AllocationRow {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly bytes: number;
}

export interface Allocations {
  readonly bytes: number;
  /** Bytes allocated in the scripts' own functions (not built-ins), and how many the source map placed. */
  readonly scripted: number;
  readonly mapped: number;
  readonly byFunction: readonly AllocationRow[];
  readonly byFile: readonly { readonly file: string; readonly bytes: number }[];
}

/** Sums the bytes by the allocating function (the top of the stack) and by its source file. */
export function allocations(profile: HeapProfile, locate: Locate): Allocations {
  const rows = new Map<string, { name: string; file: string; line: number; bytes: number }>();
  let [bytes, scripted, mapped] = [0, 0, 0];
  const stack: HeapNode[] = [profile.head];
  while (stack.length > 0) {
    const node = stack.pop()!;
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    const f = node.callFrame;
    bytes += node.selfSize;
    const native = f.scriptId === "0" || f.url === "";
    const place = native ? null : locate(f.scriptId, f.url, f.lineNumber, f.columnNumber);
    if (place !== null) scripted += node.selfSize;
    if (place?.mapped) mapped += node.selfSize;
    const name = f.functionName || "(anonymous)";
    const file = place?.file ?? NATIVE;
    const line = place?.line ?? 0;
    const key = `${name}\u0000${file}\u0000${line}`;
    const row = rows.get(key) ?? { name, file, line, bytes: 0 };
    row.bytes += node.selfSize;
    rows.set(key, row);
  }
  return { bytes, scripted, mapped, ...allocationTables([...rows.values()]) };
}

function allocationTables(rows: readonly AllocationRow[]): Pick<Allocations, "byFunction" | "byFile"> {
  const byFunction = [...rows].sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  const files = new Map<string, number>();
  for (const row of byFunction) files.set(row.file, (files.get(row.file) ?? 0) + row.bytes);
  const byFile = [...files].map(([file, bytes]) => ({ file, bytes })).sort((a, b) => b.bytes - a.bytes);
  return { byFunction, byFile };
}

/** Several profiles' allocations as one (bytes summed, rows of the same function merged). */
export function mergeAllocations(parts: readonly Allocations[]): Allocations {
  const sum = (key: "bytes" | "scripted" | "mapped") => parts.reduce((total, p) => total + p[key], 0);
  const rows = new Map<string, AllocationRow>();
  for (const row of parts.flatMap((p) => p.byFunction)) {
    const key = `${row.name}\u0000${row.file}\u0000${row.line}`;
    rows.set(key, { ...row, bytes: (rows.get(key)?.bytes ?? 0) + row.bytes });
  }
  return {
    bytes: sum("bytes"),
    scripted: sum("scripted"),
    mapped: sum("mapped"),
    ...allocationTables([...rows.values()]),
  };
}
