/** Reports written to bench/ (or a script's `--out DIR`) as prettier would write them. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";

/** Where reports go unless a script is given `--out DIR`: the committed bench/ folder. */
export const BENCH_DIR = fileURLToPath(new URL("../../bench/", import.meta.url));

/** `text` formatted with the project's prettier settings for `name`, so `prettier --check` accepts it. */
export async function formatAs(name: string, text: string, parser: "markdown" | "json"): Promise<string> {
  const config = await prettier.resolveConfig(path.join(BENCH_DIR, name));
  return prettier.format(text, { ...config, parser });
}

/** Formats `markdown` (see `formatAs`), prints it and writes it to `outDir`/`name`. */
export async function writeReport(name: string, markdown: string, outDir: string = BENCH_DIR): Promise<void> {
  const outPath = path.join(outDir, name);
  const formatted = await formatAs(name, markdown, "markdown");
  console.log(`\n${formatted}`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(outPath, formatted);
  console.log(`wrote ${path.relative(process.cwd(), outPath) || outPath}`);
}
