/**
 * `npm run lb -- <command>`: the admin API from a terminal (README "Admin API").
 *
 *   origins                                    list origins: state, health, weight, share of clients
 *   add ID URL [--weight W] [--region R] [--state S]
 *   update ID [--url U] [--weight W] [--region R|none]
 *   drain ID | enable ID | disable ID | remove ID
 *   preview <any of the changes above>         what the change would move, without making it
 *   audit [--limit N] [--before SEQ]           the newest changes first
 *   regions                                    the regional pools and their origins
 *   set-regions FILE                           replace the regions with FILE's JSON (README "Regions")
 *
 * Options: --lb URL of the balancer (default $LB_URL or http://127.0.0.1:8787), --token (default
 * $LB_ADMIN_TOKEN), --prefix (default /__lb), --if-match EPOCH (refuse unless the epoch is still
 * EPOCH), --json (print the API's answer as is). Exits 1 with the server's message when it refuses.
 */
import { parseArgs } from "node:util";
import { buildCall, USAGE, UsageError } from "./lb/call.ts";
import { showAudit, showOrigins, showPreview, showRegions, type Preview } from "./lb/show.ts";

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      lb: { type: "string" },
      token: { type: "string" },
      prefix: { type: "string" },
      "if-match": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      url: { type: "string" },
      weight: { type: "string" },
      region: { type: "string" },
      state: { type: "string" },
      limit: { type: "string" },
      before: { type: "string" },
    },
  });
  if (values.help === true || positionals.length === 0) {
    console.log(USAGE);
    return values.help === true ? 0 : 2;
  }
  const dryRun = positionals[0] === "preview";
  const words = dryRun ? positionals.slice(1) : positionals;
  const call = buildCall(words, values);
  if (dryRun && !call.change) throw new UsageError("preview: give a change, e.g. preview drain ID");
  const token = values.token ?? process.env.LB_ADMIN_TOKEN;
  if (token === undefined || token === "") throw new UsageError("no admin token: set LB_ADMIN_TOKEN or pass --token");

  const base = new URL(values.lb ?? process.env.LB_URL ?? "http://127.0.0.1:8787");
  const prefix = values.prefix ?? "/__lb";
  const target = new URL(`${prefix}${call.path}`, base);
  if (dryRun) target.searchParams.set("dry_run", "1");
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
  if (call.body !== undefined) headers["content-type"] = "application/json";
  if (values["if-match"] !== undefined) headers["if-match"] = `"${values["if-match"]}"`;

  let response: Response;
  try {
    response = await fetch(target, {
      method: call.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      redirect: "manual",
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    console.error(`lb: cannot reach ${base.origin}${cause}`);
    return 1;
  }
  const text = await response.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = null;
  }
  if (!response.ok) {
    const message = (answer as { error?: string } | null)?.error ?? (text.trim() || response.statusText);
    console.error(`lb: ${response.status} ${message}`);
    return 1;
  }
  if (values.json === true) {
    console.log(JSON.stringify(answer, null, 2));
    return 0;
  }
  if (words[0] === "origins") console.log(showOrigins(answer as never));
  else if (words[0] === "audit") console.log(showAudit(answer as never));
  else if (words[0] === "regions") console.log(showRegions(answer as never));
  else {
    const result = answer as { epoch: number; changed?: boolean; preview: Preview };
    const head = dryRun
      ? `preview at epoch ${result.epoch} (nothing changed):`
      : result.changed === false
        ? `nothing to change (epoch ${result.epoch})`
        : `done: epoch ${result.epoch}`;
    console.log(`${head}\n${showPreview(result.preview)}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`lb: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
