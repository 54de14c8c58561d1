/**
 * The result every bench part writes beside its Markdown report, as `<name>.json`, and
 * `npm run bench` reads back: the machine, the command, the goals met or missed, optionally the
 * figures as tables, then the part's own figures (typed by the part: see its `*Result` type).
 */
import fs from "node:fs";
import path from "node:path";
import { BENCH_DIR, formatAs } from "./report.ts";

/** One goal of issue 5, met or missed, with what was measured. */
export interface Goal {
  readonly goal: string;
  readonly met: boolean;
  readonly detail: string;
}

/** A table of figures as plain text (BENCHMARKS.md escapes the cells). */
export interface FigureTable {
  readonly title: string;
  readonly head: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export interface PartResult {
  /** The machine line (CPU, cores, Node), or why there is none. */
  readonly machine: string;
  readonly command: string;
  readonly quick: boolean;
  readonly goals: readonly Goal[];
  /** The figures for BENCHMARKS.md; a part without them has the tables of its Markdown report shown. */
  readonly tables?: readonly FigureTable[];
}

/** Writes a part's result as JSON to `outDir`/`name`, formatted as prettier would (see `formatAs`). */
export async function writePartResult<T extends PartResult>(
  name: string,
  result: T,
  outDir = BENCH_DIR,
): Promise<void> {
  const formatted = await formatAs(name, JSON.stringify(result), "json");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, name), formatted);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/**
 * A part's result read back: the common fields checked (goals and tables kept only where they
 * have their shape, as text), the part's own figures as written. Throws when the JSON is unreadable.
 */
export function readPartResult(file: string): PartResult & Record<string, unknown> {
  const raw: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
  const data = isObject(raw) ? raw : {};
  const goals = Array.isArray(data.goals) ? data.goals.filter(isObject) : [];
  const tables = Array.isArray(data.tables)
    ? data.tables
        .filter(
          (t): t is Record<string, unknown> & { head: unknown[]; rows: unknown[] } =>
            Array.isArray(t?.head) && Array.isArray(t?.rows),
        )
        .map((t) => ({
          title: String(t.title ?? ""),
          head: t.head.map(String),
          rows: t.rows.map((r) => (r as unknown[]).map(String)),
        }))
    : undefined;
  return {
    ...data,
    machine: String(data.machine ?? ""),
    command: typeof data.command === "string" ? data.command : "",
    quick: data.quick === true,
    goals: goals.map((g) => ({ goal: String(g.goal ?? "?"), met: g.met === true, detail: String(g.detail ?? "") })),
    tables,
  };
}
