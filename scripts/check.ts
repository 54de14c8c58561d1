/**
 * `npm run check [-- --config wrangler.toml] [-- --var NAME:value ...] [-- --secret NAME ...]`:
 * the settings a deploy would run with, checked by the Worker's own parsers before anything is
 * deployed. One invalid setting makes every request a 503 ("load balancer misconfigured") and
 * `wrangler deploy --dry-run` does not notice; this does. `npm run deploy` runs it first.
 *
 * `--var` overrides a variable as `wrangler deploy --var` would; `--secret NAME` says a secret is
 * set (its value is never needed, and never asked for). Exit status 1 on any error.
 */
import { parseArgs } from "node:util";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { checkSettings } from "./check/check-settings.ts";

const { values } = parseArgs({
  options: {
    config: { type: "string", default: "wrangler.toml" },
    var: { type: "string", multiple: true, default: [] },
    secret: { type: "string", multiple: true, default: [] },
  },
});

const { workerOptions } = unstable_getMiniflareWorkerOptions(values.config!);
const vars: Record<string, unknown> = { ...(workerOptions.bindings as Record<string, unknown>) };
for (const pair of values.var!) {
  const at = pair.indexOf(":");
  if (at <= 0) {
    console.error(`--var ${pair}: expected NAME:value`);
    process.exit(1);
  }
  vars[pair.slice(0, at)] = pair.slice(at + 1);
}
const report = checkSettings(vars, new Set(values.secret));
for (const line of report.lines) console.log(line);
process.exit(report.ok ? 0 : 1);
