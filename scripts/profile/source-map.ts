/**
 * From a position in the bundle the isolate runs to the source file and line it came from, through
 * the bundle's source map (esbuild's, written by wrangler beside the bundle) and Node's own
 * `module.SourceMap`: no dependency.
 */
import fs from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ParsedScript } from "./record.ts";

/** A function's place: its source file (relative to the project, or the bundle's name) and 1-based line. */
export interface Place {
  readonly file: string;
  readonly line: number;
  /** True when the source map gave it. */
  readonly mapped: boolean;
}

/** Maps (scriptId, 0-based line, 0-based column) of a profile's call frame to a `Place`. */
export type Locate = (scriptId: string, url: string, line: number, column: number) => Place;

/** A script's URL as the tables show it: a file inside the project relative to it, else its base name. */
function shortName(url: string, root: string): string {
  if (!url.startsWith("file:")) return url || "(native)";
  const file = fileURLToPath(url);
  const relative = path.relative(root, file);
  return relative.startsWith("..") ? path.basename(file) : relative.split(path.sep).join("/");
}

/** The source map of a parsed script: inline (data: URL) or a file beside it; null when there is none. */
function loadMap(script: ParsedScript): { map: SourceMap; dir: string } | null {
  if (!script.sourceMapURL) return null;
  try {
    if (script.sourceMapURL.startsWith("data:")) {
      const base64 = script.sourceMapURL.slice(script.sourceMapURL.indexOf(",") + 1);
      const payload = JSON.parse(Buffer.from(base64, "base64").toString("utf8")) as SourceMapPayload;
      return {
        map: new SourceMap(payload),
        dir: script.url.startsWith("file:") ? path.dirname(fileURLToPath(script.url)) : "",
      };
    }
    if (!script.url.startsWith("file:")) return null;
    const file = fileURLToPath(new URL(script.sourceMapURL, script.url));
    const payload = JSON.parse(fs.readFileSync(file, "utf8")) as SourceMapPayload;
    return { map: new SourceMap(payload), dir: path.dirname(file) };
  } catch {
    return null;
  }
}

/** A locator over the scripts the isolate parsed; paths relative to `root` (the project). */
export function sourceLocator(scripts: readonly ParsedScript[], root: string): { locate: Locate; mapped: string[] } {
  const maps = new Map<string, { map: SourceMap; dir: string }>();
  for (const script of scripts) {
    const loaded = loadMap(script);
    if (loaded) maps.set(script.scriptId, loaded);
  }
  const mapped = scripts.filter((s) => maps.has(s.scriptId)).map((s) => s.url);
  const locate: Locate = (scriptId, url, line, column) => {
    const unmapped = { file: shortName(url, root), line: line + 1, mapped: false };
    const source = maps.get(scriptId);
    if (source === undefined || line < 0) return unmapped;
    const entry = source.map.findEntry(line, Math.max(0, column)) as {
      originalSource?: string;
      originalLine?: number;
    };
    if (!entry.originalSource) return unmapped;
    const original = entry.originalSource.startsWith("file:")
      ? fileURLToPath(entry.originalSource)
      : path.resolve(source.dir, entry.originalSource);
    const relative = path.relative(root, original).split(path.sep).join("/");
    return { file: relative.startsWith("..") ? original : relative, line: entry.originalLine! + 1, mapped: true };
  };
  return { locate, mapped };
}
