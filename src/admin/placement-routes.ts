/**
 * The admin API's placement routes (README "Load-aware placement"): list the placements with the
 * edge-wide view they were made from, pin a client key to one origin by hand, or release a key's
 * placement; `?dry_run=1` previews a change (the placement before and after) and writes nothing,
 * `If-Match` compares the epoch, and every change is audited by the Durable Object.
 */
import type { Context, Hono } from "hono";
import type { Settings } from "../core/config/settings.ts";
import { xxh32 } from "../core/hash.ts";
import { clientKey, formatClientKey } from "../core/key/client-key.ts";
import type { PlacementChange, PlacementChangeResult } from "../ring-store/protocol.ts";
import { shapeEdgeView } from "../status/edge-view.ts";
import { ringStub } from "../worker/do-call.ts";
import { bounded, flagQuery, refreshAfterChange } from "./admin-call.ts";
import { parseIfMatch } from "./api-routes.ts";
import type { AppEnv } from "./app-env.ts";
import { requireAccess } from "./auth.ts";
import { isJsonType, parseJson, readBody } from "./body.ts";

type PlacementContext = Context<AppEnv>;

const refuse = (c: PlacementContext, status: 400 | 404 | 409 | 413 | 415, field: string, error: string): Response =>
  c.json({ error: `${field}: ${error}`, field }, status);

/**
 * A client key as the placements name it, from an address or a prefix in the key's own length
 * ("203.0.113.7", "203.0.113.7/32", "2001:db8:1:2::/64"): its text and ring hash, or an error.
 */
export function parsePlacementKey(
  raw: unknown,
  settings: Settings,
): { ok: true; key: string; hash: number } | { ok: false; error: string } {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 64) {
    return { ok: false, error: "must be a client address or prefix, like 203.0.113.7/32" };
  }
  const slash = raw.indexOf("/");
  const key = clientKey(slash < 0 ? raw : raw.slice(0, slash), settings);
  if (key.kind === "fallback") return { ok: false, error: "must be a client address or prefix, like 203.0.113.7/32" };
  if (slash >= 0 && raw.slice(slash + 1) !== String(key.prefix)) {
    return { ok: false, error: `client keys are /${key.prefix} (IPV4_PREFIX, IPV6_PREFIX)` };
  }
  return { ok: true, key: formatClientKey(key), hash: xxh32(key.bytes) };
}

/** Registers `/api/placements` on the prefix's app. */
export function registerPlacementRoutes(app: Hono<AppEnv>): void {
  app.get("/api/placements", requireAccess("read"), async (c) => {
    const status = await bounded(c, ringStub(c.env.env).getTraffic());
    if (status === null) return c.json({ placements: [], edge: null });
    return c.json({ placements: status.placements, edge: shapeEdgeView(status) });
  });

  app.post("/api/placements", requireAccess("write"), async (c) => {
    if (!isJsonType(c.req.header("content-type") ?? null)) {
      return refuse(c, 415, "Content-Type", "must be application/json");
    }
    const read = await readBody(c.req.raw, c.env.status.settings.adminMaxBodyBytes);
    if (!read.ok) return refuse(c, read.status, read.field, read.error);
    const json = parseJson(read.bytes);
    if (!json.ok) return refuse(c, 400, "body", json.error);
    const body = json.value as Record<string, unknown> | null;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return refuse(c, 400, "body", "must be an object { key, origin }");
    }
    const key = parsePlacementKey(body.key, c.env.status.settings);
    if (!key.ok) return refuse(c, 400, "key", key.error);
    if (typeof body.origin !== "string" || body.origin === "") return refuse(c, 400, "origin", "must be an origin id");
    return change(c, { op: "pin", key: key.key, hash: key.hash, origin: body.origin });
  });

  app.delete("/api/placements/:key", requireAccess("write"), async (c) => {
    const key = parsePlacementKey(c.req.param("key"), c.env.status.settings);
    if (!key.ok) return refuse(c, 400, "key", key.error);
    return change(c, { op: "release", key: key.key });
  });
}

async function change(c: PlacementContext, placement: PlacementChange): Promise<Response> {
  const dryRun = flagQuery(c.req.query("dry_run"));
  if (dryRun === null) return refuse(c, 400, "dry_run", "must be 1 or 0");
  const ifMatch = parseIfMatch(c.req.header("if-match") ?? null);
  if (!ifMatch.ok) return refuse(c, 400, "If-Match", 'must be one epoch, like 12 or "12"');
  const result: PlacementChangeResult = await bounded(
    c,
    (async () =>
      await ringStub(c.env.env).changePlacement(placement, {
        ifMatch: ifMatch.value,
        dryRun,
        actor: c.get("actor") ?? undefined,
      }))(),
  );
  if (!result.ok) return refuse(c, result.status, result.field, result.error);
  c.header("etag", `"${result.epoch}"`);
  if (!result.dryRun && result.changed) refreshAfterChange(c, result.epoch);
  return c.json(result);
}
