/** Running wrangler from the scripts: its entry, a quiet environment, and the build into dist/. */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { log } from "./log.ts";

/** wrangler's command-line entry in node_modules, to run with this Node. */
export const WRANGLER_JS = path.join(
  path.dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

/** The environment for wrangler and Miniflare: no metrics sent, no `request.cf` fetched. */
export const quietEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
});

/** Builds dist/ as `npm run build` does (`wrangler deploy --dry-run --outdir dist`). */
export function buildWorker(): void {
  log("building the worker: wrangler deploy --dry-run --outdir dist");
  execFileSync(process.execPath, [WRANGLER_JS, "deploy", "--dry-run", "--outdir", "dist"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: quietEnv(),
  });
}
