/** Markdown tables for the reports. */
import type { Goal } from "./part-result.ts";

/** A Markdown table: the first column left-aligned, the others right-aligned (numbers). */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const align = head.map((_, i) => (i === 0 ? "---" : "---:"));
  return [head, align, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** A Markdown table whose columns are left-aligned text unless marked numeric. */
export function textTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly boolean[] = [],
): string {
  const align = head.map((_, i) => (numeric[i] ? "---:" : "---"));
  return [head, align, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** A cell's `|` escaped, so it stays one cell. */
export const escapePipes = (cell: string): string => cell.replace(/\|/g, "\\|");

/** A cell's `|` escaped and its line breaks made spaces. */
export const escapeCell = (cell: string): string => escapePipes(cell).replace(/\n/g, " ");

/** A part's goals as a table of text: goal, met ("yes" or "**missed**"), detail. */
export function goalTable(goals: readonly Goal[]): string {
  return textTable(
    ["goal", "met", "detail"],
    goals.map((g) => [g.goal, g.met ? "yes" : "**missed**", g.detail].map(escapePipes)),
  );
}
