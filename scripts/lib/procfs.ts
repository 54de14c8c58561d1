/** This process's descendants and their CPU time, from /proc (Linux). */
import { execFileSync } from "node:child_process";
import fs from "node:fs";

/** Every process's parent and command name (`comm`), from /proc/<pid>/stat. */
function processTable(): Map<number, { ppid: number; comm: string }> {
  const table = new Map<number, { ppid: number; comm: string }>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")"); // the command name may hold spaces and parentheses
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      table.set(Number(entry), { ppid: Number(stat.slice(close + 2).split(" ")[1]), comm });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** The pids of the descendants (children, grandchildren…) of `ancestor` (this process) named `comm`, e.g. "workerd". */
export function descendants(comm: string, ancestor: number = process.pid): number[] {
  const table = processTable();
  const isDescendant = (pid: number): boolean => {
    for (let p = table.get(pid)?.ppid; p !== undefined && p > 1; p = table.get(p)?.ppid) {
      if (p === ancestor) return true;
    }
    return false;
  };
  return [...table].filter(([pid, info]) => info.comm === comm && isDescendant(pid)).map(([pid]) => pid);
}

let ticksPerSecond: number | null = null;

/** User + system CPU time of `pid` (all its threads) in ms, at the kernel's tick resolution; NaN when gone. */
export function cpuMs(pid: number): number {
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/** The arguments `pid` was started with; empty when it is gone. */
export function commandLine(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}
