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
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const USAGE = `usage: npm run lb -- <command> [options]

commands:
  origins                                   list origins with state, health, weight and share of clients
  add ID URL [--weight W] [--region R] [--state active|draining|disabled]
  update ID [--url U] [--weight W] [--region R|none]
  drain ID | enable ID | disable ID | remove ID
  preview <change>                          dry run of any change above: who would move, nothing changes
  audit [--limit N] [--before SEQ]          the audit log, newest first
  regions                                   the regional pools, what they serve first, their origins
  set-regions FILE                          replace the regions: FILE holds { "regions": [...], "defaultRegion": ID }

options:
  --lb URL          the balancer (default $LB_URL or http://127.0.0.1:8787)
  --token TOKEN     the admin token (default $LB_ADMIN_TOKEN)
  --prefix PATH     the balancer's reserved prefix (default /__lb)
  --if-match EPOCH  apply only if the epoch is still EPOCH (409 otherwise)
  --json            print the API's JSON answer as is`;

interface Flow {
  readonly from: string | null;
  readonly to: string | null;
  readonly share: number;
}
interface Preview {
  readonly share: number;
  readonly ipv4Addresses: number;
  readonly ipv6Prefixes: number;
  readonly flows: readonly Flow[];
}
interface OriginRow {
  readonly id: string;
  readonly url: string;
  readonly weight: number;
  readonly region: string | null;
  readonly state: string;
  readonly health: string;
  readonly share: number;
  readonly traffic: number;
  readonly ejectedUntil: number | null;
}
interface RegionRow {
  readonly id: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly countries: readonly string[];
  readonly continents: readonly string[];
  readonly origins: readonly string[];
}
interface AuditRow {
  readonly seq: number;
  readonly at: number;
  readonly epoch: number;
  readonly action: string;
  readonly detail: Record<string, unknown>;
  readonly actor: string | null;
}

class UsageError extends Error {}

/** A request to make: method, path under the prefix, JSON body. */
interface Call {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly change: boolean;
}

function buildCall(words: string[], values: Record<string, string | boolean | undefined>): Call {
  const [command, id, url] = words;
  const need = (count: number, shape: string) => {
    if (words.length - 1 !== count) throw new UsageError(`usage: ${command} ${shape}`);
  };
  const origin = (id: string) => `/api/origins/${encodeURIComponent(id)}`;
  const setState = (state: string): Call => {
    need(1, "ID");
    return { method: "PUT", path: `${origin(id!)}/state`, body: { state }, change: true };
  };
  if (values.url !== undefined && command !== "update") {
    throw new UsageError("--url is an origin's new URL (update only); the balancer's address is --lb");
  }
  switch (command) {
    case "origins":
      need(0, "");
      return { method: "GET", path: "/api/origins", change: false };
    case "audit": {
      need(0, "[--limit N] [--before SEQ]");
      const query = new URLSearchParams();
      if (values.limit !== undefined) query.set("limit", String(values.limit));
      if (values.before !== undefined) query.set("before", String(values.before));
      return { method: "GET", path: `/api/audit${query.size > 0 ? `?${query}` : ""}`, change: false };
    }
    case "add": {
      need(2, "ID URL [--weight W] [--region R] [--state S]");
      const body: Record<string, unknown> = { id, url };
      if (values.weight !== undefined) body.weight = number("--weight", values.weight);
      if (values.region !== undefined) body.region = values.region;
      if (values.state !== undefined) body.state = values.state;
      return { method: "POST", path: "/api/origins", body, change: true };
    }
    case "update": {
      need(1, "ID [--url U] [--weight W] [--region R|none]");
      const body: Record<string, unknown> = {};
      if (values.url !== undefined) body.url = values.url;
      if (values.weight !== undefined) body.weight = number("--weight", values.weight);
      if (values.region !== undefined) body.region = values.region === "none" ? null : values.region;
      if (Object.keys(body).length === 0)
        throw new UsageError("update: give at least one of --url, --weight, --region");
      return { method: "PATCH", path: origin(id!), body, change: true };
    }
    case "regions":
      need(0, "");
      return { method: "GET", path: "/api/regions", change: false };
    case "set-regions": {
      need(1, "FILE");
      let body: unknown;
      try {
        body = JSON.parse(readFileSync(id!, "utf8"));
      } catch (error) {
        throw new UsageError(
          `set-regions: cannot read ${id} as JSON (${error instanceof Error ? error.message : error})`,
        );
      }
      // A bare array is the regions alone.
      return {
        method: "PUT",
        path: "/api/regions",
        body: Array.isArray(body) ? { regions: body } : body,
        change: true,
      };
    }
    case "drain":
      return setState("draining");
    case "enable":
      return setState("active");
    case "disable":
      return setState("disabled");
    case "remove":
      need(1, "ID");
      return { method: "DELETE", path: origin(id!), change: true };
    default:
      throw new UsageError(command === undefined ? USAGE : `unknown command "${command}"\n\n${USAGE}`);
  }
}

function number(flag: string, value: string | boolean): number {
  const parsed = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(parsed)) {
    throw new UsageError(`${flag} must be a number`);
  }
  return parsed;
}

// ----------------------------------------------------------------------------------------------
// Output

const percent = (share: number) => `${(share * 100).toFixed(share > 0 && share < 0.0001 ? 6 : 2)} %`;
const count = (n: number) => Math.round(n).toLocaleString("en-US");
const sci = (n: number) => (n === 0 ? "0" : n.toExponential(2).replace("e+", "e"));

function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function showOrigins(answer: { epoch: number; layoutEpoch: number; origins: OriginRow[] }): string {
  const rows = answer.origins.map((o) => [
    o.id,
    o.state,
    o.health + (o.ejectedUntil !== null && o.ejectedUntil > Date.now() ? " (ejected)" : ""),
    String(o.weight),
    o.region ?? "-",
    percent(o.share),
    count(o.share * 2 ** 32),
    `${Math.round(o.traffic * 100)} %`,
    o.url,
  ]);
  return (
    `epoch ${answer.epoch} (layout ${answer.layoutEpoch}), ${answer.origins.length} origins\n\n` +
    table(
      ["id", "state", "health", "weight", "region", "share", "IPv4 addresses", "traffic", "url"],
      rows,
      new Set([3, 5, 6, 7]),
    ) +
    "\n\nshare: of the hashed key space its slots own = of IPv4 addresses and of IPv6 /64s; traffic: of its own clients it takes now"
  );
}

/** The preview in words: how many clients move, and where. */
function showPreview(preview: Preview, top = 10): string {
  if (preview.share === 0) return "moves nobody";
  const lines = [
    `moves ${percent(preview.share)} of clients: ${count(preview.ipv4Addresses)} IPv4 addresses, ${sci(preview.ipv6Prefixes)} IPv6 /64s`,
  ];
  const shown = preview.flows
    .slice(0, top)
    .map((f) => [f.from ?? "(none)", "→", f.to ?? "(none: 503)", percent(f.share), count(f.share * 2 ** 32)]);
  lines.push("", table(["from", "", "to", "share", "IPv4 addresses"], shown, new Set([3, 4])));
  if (preview.flows.length > top) {
    const rest = preview.flows.slice(top).reduce((sum, f) => sum + f.share, 0);
    lines.push(`… and ${preview.flows.length - top} smaller flows (${percent(rest)})`);
  }
  return lines.join("\n");
}

function showRegions(answer: {
  epoch: number;
  defaultRegion: string | null;
  regions: RegionRow[];
  catchAll: string[];
}): string {
  if (answer.regions.length === 0) {
    return `epoch ${answer.epoch}: no regions, one pool of ${answer.catchAll.length} origins`;
  }
  const rows = answer.regions.map((r) => [
    r.id + (r.id === answer.defaultRegion ? " (default)" : ""),
    `${r.latitude}, ${r.longitude}`,
    [...r.countries, ...r.continents].join(" ") || "(by distance)",
    r.origins.join(" ") || "(none)",
  ]);
  rows.push(["(catch-all)", "-", "after every region", answer.catchAll.join(" ") || "(none)"]);
  return (
    `epoch ${answer.epoch}

` + table(["region", "lat, lon", "serves first", "origins"], rows)
  );
}

function showAudit(answer: { entries: AuditRow[]; next: number | null }): string {
  const rows = answer.entries.map((e) => {
    // `op` repeats the action; `moved` is the preview's share, shown in its own column.
    const { moved, op: _op, ...rest } = e.detail as { moved?: number; op?: string } & Record<string, unknown>;
    return [
      String(e.seq),
      new Date(e.at).toISOString().replace(/\.\d+Z$/, "Z"),
      String(e.epoch),
      e.action,
      JSON.stringify(rest),
      moved === undefined ? "-" : percent(moved),
      e.actor ?? "-",
    ];
  });
  const more = answer.next === null ? "" : `\n\nolder entries: npm run lb -- audit --before ${answer.next}`;
  return table(["seq", "at", "epoch", "action", "detail", "moved", "actor"], rows, new Set([0, 2, 5])) + more;
}

// ----------------------------------------------------------------------------------------------

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
