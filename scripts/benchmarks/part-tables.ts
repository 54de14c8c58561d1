/** A part's figures as Markdown tables for BENCHMARKS.md: from its result, else from its Markdown report. */
import fs from "node:fs";
import path from "node:path";
import { escapeCell } from "../lib/markdown.ts";
import type { FigureTable } from "../lib/part-result.ts";
import type { Outcome } from "./run-part.ts";

/**
 * The part's own tables (`tables` in its result, plain text), else the tables of the Markdown
 * reports it wrote (except its goals table); either way as Markdown cells.
 */
export function tablesOf(outcome: Outcome, partsDir: string): FigureTable[] {
  const own = outcome.data?.tables;
  if (own !== undefined) {
    return own.map((t) => ({
      title: t.title,
      head: t.head.map(escapeCell),
      rows: t.rows.map((r) => r.map(escapeCell)),
    }));
  }
  const found: FigureTable[] = [];
  for (const report of outcome.reports) {
    let heading = "";
    let block: string[] = [];
    const flush = () => {
      if (block.length >= 3 && !/^goals?\b/i.test(heading)) {
        const cells = (line: string) =>
          line
            .replace(/^\|/, "")
            .replace(/\|\s*$/, "")
            .split(/(?<!\\)\|/)
            .map((c) => c.trim());
        found.push({ title: heading, head: cells(block[0]!), rows: block.slice(2).map(cells) });
      }
      block = [];
    };
    for (const line of fs.readFileSync(path.join(partsDir, report), "utf8").split("\n")) {
      if (line.startsWith("|")) block.push(line);
      else {
        flush();
        const h = /^#{2,4}\s+(.*)$/.exec(line);
        if (h) heading = h[1]!.trim();
      }
    }
    flush();
  }
  return found;
}
