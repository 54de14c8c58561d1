/** The command line's words and options as one admin API request (method, path, body). */
import { readFileSync } from "node:fs";

export const USAGE = `usage: npm run lb -- <command> [options]

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

/** A mistake on the command line: printed as `lb: <message>`, exit status 2. */
export class UsageError extends Error {}

/** A request to make: method, path under the prefix, JSON body. */
export interface Call {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly change: boolean;
}

export function buildCall(words: string[], values: Record<string, string | boolean | undefined>): Call {
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
