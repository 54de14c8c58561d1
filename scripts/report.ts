/** Shared by the measuring scripts: Markdown tables, and a report written to bench/ as prettier would. */
import { mkdirSync, writeFileSync } from "node:fs";
import * as prettier from "prettier";

/** A Markdown table: the first column left-aligned, the others right-aligned (numbers). */
export function table(head: string[], rows: string[][]): string {
  const align = head.map((_, i) => (i === 0 ? "---" : "---:"));
  return [head, align, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/**
 * Formats `markdown` with the project's prettier settings (so `prettier --check` accepts the
 * file as written), prints it and writes it to bench/`name`.
 */
export async function writeReport(name: string, markdown: string): Promise<void> {
  const outPath = new URL(`../bench/${name}`, import.meta.url);
  const config = await prettier.resolveConfig(outPath);
  const formatted = await prettier.format(markdown, { ...config, parser: "markdown" });
  console.log(`\n${formatted}`);
  mkdirSync(new URL("../bench/", import.meta.url), { recursive: true });
  writeFileSync(outPath, formatted);
  console.log(`wrote bench/${name}`);
}
