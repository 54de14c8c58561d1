/**
 * The admin API under the reserved prefix: list, add, update, set the state of and remove origins,
 * read and replace the regional pools, each change with its disruption preview (`?dry_run=1` previews only), compare-and-set on the
 * epoch (`If-Match`), and the audit log. Validation is core/admin.ts's; atomicity is the Durable
 * Object's (one transaction per change, so a refused call changes nothing).
 */
import type { Context, Hono } from "hono";
import {
  parseAddBody,
  parseRegionsBody,
  parseStateBody,
  parseUpdateBody,
  type AdminChange,
} from "../core/admin/admin.ts";
import type { AdminUrlRules } from "../core/admin/url-rules.ts";

import type { Result } from "../core/result.ts";
import type { Settings } from "../core/config/settings.ts";
import { CATCH_ALL_POOL, poolOf } from "../core/model.ts";
import { originWeight } from "../core/routing/routing-view.ts";
import { requireAccess } from "./auth.ts";
import { isJsonType, parseJson, readBody } from "./body.ts";
import type { AuditEntry } from "../ring-store/protocol.ts";
import { ringStub } from "../worker/do-call.ts";
import { bounded, flagQuery, refreshAfterChange } from "./admin-call.ts";
import type { AppEnv } from "./app-env.ts";

type AdminContext = Context<AppEnv>;

/** A refusal: `{ error, field }` with the status that says why. */
type Refusal = { readonly status: 400 | 404 | 409 | 413 | 415 | 503; readonly field?: string; readonly error: string };

const ringOf = (c: AdminContext) => ringStub(c.env.env);

const urlRules = (settings: Settings): AdminUrlRules => ({
  allowLocal: settings.adminAllowLocalOrigins,
  allowedPorts: settings.adminAllowedPorts,
});

function refuse(c: AdminContext, refusal: Refusal): Response {
  const { status, ...body } = refusal;
  return c.json(body, status);
}

/** Registers the `/api/...` routes on the prefix's app. */
export function registerAdminRoutes(app: Hono<AppEnv>): void {
  app.get("/api/origins", requireAccess("read"), async (c) => {
    const { settings, now } = c.env.status;
    const list = await bounded(c, ringOf(c).listOrigins());
    const at = now();
    const policy = {
      slowStartMs: settings.slowStartMs,
      drainMs: settings.drainMs,
      panicPercent: settings.panicPercent,
    };
    c.header("etag", `"${list.epoch}"`);
    return c.json({
      epoch: list.epoch,
      layoutEpoch: list.layoutEpoch,
      origins: list.origins.map((origin) => {
        const detail = origin.healthDetail;
        return {
          id: origin.id,
          url: origin.url,
          weight: origin.weight,
          region: origin.region,
          state: origin.state,
          health: origin.health.status,
          // Exact share of the key space its slots cover (its clients when every origin takes traffic).
          share: origin.share,
          // The share of its own clients it takes now (0–1): health, ejection, slow start, drain.
          traffic: Math.round(originWeight(origin, policy, at) * 1000) / 1000,
          drainStartedAt: origin.drainStartedAt,
          ejectedUntil: origin.health.ejectedUntil,
          recoveredAt: origin.health.recoveredAt,
          probe: {
            lastAt: detail.lastProbeAt,
            latencyMs: detail.latencyMs,
            error: detail.error,
            passes: detail.passes,
            failures: detail.failures,
            passiveFailures: detail.passiveFailures,
            ejections: detail.ejections,
          },
        };
      }),
    });
  });

  app.post("/api/origins", requireAccess("write"), (c) =>
    change(c, (body) => parseAddBody(body, urlRules(c.env.status.settings)), { body: true, created: true }),
  );
  app.patch("/api/origins/:id", requireAccess("write"), (c) =>
    change(c, (body) => parseUpdateBody(c.req.param("id"), body, urlRules(c.env.status.settings)), { body: true }),
  );
  app.put("/api/origins/:id/state", requireAccess("write"), (c) =>
    change(c, (body) => parseStateBody(c.req.param("id"), body), { body: true }),
  );
  app.delete("/api/origins/:id", requireAccess("write"), (c) =>
    change(c, () => ({ ok: true, value: { op: "remove", id: c.req.param("id") } }), { body: false }),
  );

  // The regional pools (README "Regions"): the whole set is read and replaced at once, so a
  // country or continent can move from one region to another in one atomic change.
  app.get("/api/regions", requireAccess("read"), async (c) => {
    const snapshot = await bounded(c, ringOf(c).getSnapshot());
    const ids = new Set(snapshot.regions.map((region) => region.id));
    const members = (pool: string) => snapshot.origins.filter((o) => poolOf(o.region, ids) === pool).map((o) => o.id);
    c.header("etag", `"${snapshot.epoch}"`);
    return c.json({
      epoch: snapshot.epoch,
      defaultRegion: snapshot.defaultRegion,
      regions: snapshot.regions.map((region) => ({ ...region, origins: members(region.id) })),
      // Origins without a declared region: tried after every region.
      catchAll: members(CATCH_ALL_POOL),
    });
  });
  app.put("/api/regions", requireAccess("write"), (c) => change(c, parseRegionsBody, { body: true }));

  app.get("/api/audit", requireAccess("read"), async (c) => {
    const limit = integerQuery(c.req.query("limit"), 100, 1, 1_000);
    if (limit === null)
      return refuse(c, { status: 400, field: "limit", error: "limit must be an integer from 1 to 1000" });
    const before = integerQuery(c.req.query("before"), null, 1, Number.MAX_SAFE_INTEGER);
    if (before === null && c.req.query("before") !== undefined) {
      return refuse(c, { status: 400, field: "before", error: "before must be a positive integer (an entry's seq)" });
    }
    // `detail` is JSON, which the RPC typing cannot express (it maps `unknown` to never).
    const entries = (await bounded(c, ringOf(c).getAudit(limit, before))) as unknown as AuditEntry[];
    const last = entries.at(-1);
    return c.json({ entries, next: entries.length === limit && last !== undefined ? last.seq : null });
  });
}

/**
 * One mutation: options, then the body (415, 413, 400), then the change in the Durable Object
 * (404, 409). Every refusal happens before anything is written.
 */
async function change(
  c: AdminContext,
  parse: (body: unknown) => Result<AdminChange>,
  shape: { readonly body: boolean; readonly created?: boolean },
): Promise<Response> {
  const dryRun = flagQuery(c.req.query("dry_run"));
  if (dryRun === null) return refuse(c, { status: 400, field: "dry_run", error: "dry_run must be 1 or 0" });
  const ifMatch = parseIfMatch(c.req.header("if-match") ?? null);
  if (!ifMatch.ok) {
    return refuse(c, { status: 400, field: "If-Match", error: 'If-Match must be one epoch, like 12 or "12"' });
  }

  let body: unknown = null;
  if (shape.body) {
    if (!isJsonType(c.req.header("content-type") ?? null)) {
      return refuse(c, { status: 415, field: "Content-Type", error: "Content-Type must be application/json" });
    }
    const read = await readBody(c.req.raw, c.env.status.settings.adminMaxBodyBytes);
    if (!read.ok) return refuse(c, { status: read.status, field: read.field, error: `${read.field} ${read.error}` });
    const json = parseJson(read.bytes);
    if (!json.ok) return refuse(c, { status: 400, field: "body", error: `body ${json.error}` });
    body = json.value;
  }
  const parsed = parse(body);
  if (!parsed.ok) {
    const [first] = parsed.errors;
    return c.json({ error: `${first!.field} ${first!.message}`, field: first!.field, errors: parsed.errors }, 400);
  }

  const result = await bounded(
    c,
    // One awaited value: the RPC's union of promise types is not one Promise<T>.
    (async () =>
      await ringOf(c).applyChange(parsed.value, {
        ifMatch: ifMatch.value,
        dryRun,
        actor: c.get("actor") ?? undefined,
      }))(),
  );
  if (!result.ok)
    return refuse(c, { status: result.status, field: result.field, error: `${result.field}: ${result.error}` });
  c.header("etag", `"${result.epoch}"`);
  // A new origin has no slots until its probes pass (core/health AWAITING_PROBES): say so beside the preview.
  const note =
    parsed.value.op === "add"
      ? `${parsed.value.origin.id} takes no traffic until it passes HEALTH_RISE (${c.env.status.settings.healthRise}) probes; then the preview's clients move to it, over SLOW_START_MS`
      : undefined;
  if (result.dryRun) return c.json({ dryRun: true, epoch: result.epoch, preview: result.preview, note });
  if (result.changed) refreshAfterChange(c, result.epoch);
  const created = shape.created === true && result.changed;
  if (created && parsed.value.op === "add") {
    c.header("location", `${c.env.status.settings.lbPrefix}/api/origins/${encodeURIComponent(parsed.value.origin.id)}`);
  }
  return c.json({ epoch: result.epoch, changed: result.changed, preview: result.preview, note }, created ? 201 : 200);
}

/**
 * `If-Match` (RFC 9110 §13.1.1) as the epoch to compare with: `12` or the entity-tag form `"12"`
 * that responses carry in `ETag`; `*` or no header means no condition. A weak tag (`W/"12"`) or
 * a list is malformed: the change needs exactly one strong epoch.
 */
export function parseIfMatch(header: string | null): { ok: true; value: number | null } | { ok: false } {
  if (header === null) return { ok: true, value: null };
  const text = header.trim();
  if (text === "*") return { ok: true, value: null };
  const match = /^(?:"(\d{1,15})"|(\d{1,15}))$/.exec(text);
  if (match === null) return { ok: false };
  return { ok: true, value: Number(match[1] ?? match[2]) };
}

function integerQuery<T extends number | null>(
  value: string | undefined,
  fallback: T,
  min: number,
  max: number,
): number | T | null {
  if (value === undefined) return fallback;
  if (!/^\d{1,16}$/.test(value)) return null;
  const number = Number(value);
  return number >= min && number <= max ? number : null;
}
