// Builds the worker exactly as `wrangler deploy` would (offline, --dry-run) into dist/, once for
// the end-to-end suite; the tests then run that bundle in workerd. This is also the check that
// `wrangler deploy --dry-run` passes.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

export default function setup(): void {
  const pkg = createRequire(import.meta.url).resolve("wrangler/package.json");
  const wrangler = path.join(path.dirname(pkg), "bin", "wrangler.js");
  execFileSync(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", "dist"], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
    },
  });
}
