/** Shared by the measuring scripts: Markdown tables, and a report written to bench/ as prettier would. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";

/** A Markdown table: the first column left-aligned, the others right-aligned (numbers). */
export function table(head: string[], rows: string[][]): string {
  const align = head.map((_, i) => (i === 0 ? "---" : "---:"));
  return [head, align, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** Where reports go unless a script is given `--out DIR`: the committed bench/ folder. */
export const BENCH_DIR = fileURLToPath(new URL("../bench/", import.meta.url));

/**
 * Formats `markdown` with the project's prettier settings (so `prettier --check` accepts the
 * file as written), prints it and writes it to `outDir`/`name`.
 */
export async function writeReport(name: string, markdown: string, outDir: string = BENCH_DIR): Promise<void> {
  const outPath = path.join(outDir, name);
  const config = await prettier.resolveConfig(path.join(BENCH_DIR, name));
  const formatted = await prettier.format(markdown, { ...config, parser: "markdown" });
  console.log(`\n${formatted}`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(outPath, formatted);
  console.log(`wrote ${path.relative(process.cwd(), outPath) || outPath}`);
}

/**
 * Writes a script's figures as JSON to `outDir`/`name`, for `scripts/bench.ts` to collect,
 * formatted as prettier would (so a part run alone leaves `prettier --check` green).
 */
export async function writeJson(name: string, data: unknown, outDir: string = BENCH_DIR): Promise<void> {
  const config = await prettier.resolveConfig(path.join(BENCH_DIR, name));
  const formatted = await prettier.format(JSON.stringify(data), { ...config, parser: "json" });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, name), formatted);
}
