// The admin API's placement routes: list, pin and release by hand, each with the dry-run preview,
// audited, and refusals that change nothing.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, test } from "vitest";
import { RING_OBJECT_NAME, type AuditEntry } from "../../src/ring-store/protocol.ts";
import type { Env } from "../../src/worker/env.ts";
import worker from "../../src/worker/index.ts";
import { resetRoutingCache } from "../../src/worker/routing-cache.ts";

type IncomingRequest = Request<unknown, IncomingRequestCfProperties>;

const AUTH = { authorization: `Bearer ${env.ADMIN_TOKEN!}` };
const CLIENT = "203.0.113.50";
const stub = () => env.RING.get(env.RING.idFromName(RING_OBJECT_NAME));

async function call(path: string, method = "GET", json?: unknown, headers: Record<string, string> = AUTH) {
  const ctx = createExecutionContext();
  const init: RequestInit = { method, headers: { "cf-connecting-ip": CLIENT, ...headers } };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const response = await worker.fetch(
    new Request(`https://lb.example${path}`, init) as IncomingRequest,
    env as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

const servedBy = async (ip: string) => {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request("https://lb.example/x", { headers: { "cf-connecting-ip": ip } }) as IncomingRequest,
    env as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return ((await response.json()) as { origin: string }).origin;
};

const listed = async () =>
  (
    (await (await call("/__lb/api/placements")).json()) as {
      placements: { key: string; targets: { origin: string }[] }[];
    }
  ).placements;

afterEach(async () => {
  await call(`/__lb/api/placements/${encodeURIComponent(`${CLIENT}/32`)}`, "DELETE");
  resetRoutingCache();
});

describe("/api/placements", () => {
  test("pins a client key to an origin by hand, previewed first, audited, and releases it", async () => {
    resetRoutingCache();
    const natural = await servedBy(CLIENT);
    const target = ["alpha", "bravo", "charlie"].find((id) => id !== natural)!;
    const epoch = (await stub().getSnapshot()).epoch;

    const preview = await call("/__lb/api/placements?dry_run=1", "POST", { key: CLIENT, origin: target });
    expect(preview.status).toBe(200);
    expect(await preview.json()).toMatchObject({
      ok: true,
      dryRun: true,
      epoch,
      changed: true,
      before: null,
      after: { key: `${CLIENT}/32`, targets: [{ origin: target, weight: 1 }], manual: true },
    });
    // A dry run writes nothing.
    expect(await listed()).toEqual([]);
    expect((await stub().getSnapshot()).epoch).toBe(epoch);

    const pinned = await call("/__lb/api/placements", "POST", { key: `${CLIENT}/32`, origin: target });
    expect(pinned.status).toBe(200);
    expect(await pinned.json()).toMatchObject({ dryRun: false, epoch: epoch + 1, changed: true });
    expect((await listed()).map((p) => [p.key, p.targets[0]!.origin])).toEqual([[`${CLIENT}/32`, target]]);
    // This isolate routes by it at once; a neighbour address is untouched.
    resetRoutingCache();
    expect(await servedBy(CLIENT)).toBe(target);
    const [entry] = (await stub().getAudit(1)) as AuditEntry[];
    expect(entry).toMatchObject({ action: "pin-placement", epoch: epoch + 1 });
    expect(entry!.actor).toMatch(/^token:/);

    const path = `/__lb/api/placements/${encodeURIComponent(`${CLIENT}/32`)}`;
    const releasePreview = await call(`${path}?dry_run=1`, "DELETE");
    expect(await releasePreview.json()).toMatchObject({ dryRun: true, before: { key: `${CLIENT}/32` }, after: null });
    expect(await listed()).toHaveLength(1);
    const released = await call(path, "DELETE");
    expect(await released.json()).toMatchObject({ dryRun: false, epoch: epoch + 2, changed: true, after: null });
    expect(await listed()).toEqual([]);
    expect(((await stub().getAudit(1)) as AuditEntry[])[0]).toMatchObject({ action: "release-placement" });
    resetRoutingCache();
    expect(await servedBy(CLIENT)).toBe(natural);
  });

  test("refuses bad input with the field named and changes nothing", async () => {
    const epoch = (await stub().getSnapshot()).epoch;
    const cases: [string, string, unknown, number, string][] = [
      ["/__lb/api/placements", "POST", { key: "not an address", origin: "alpha" }, 400, "key"],
      ["/__lb/api/placements", "POST", { key: `${CLIENT}/24`, origin: "alpha" }, 400, "key"],
      ["/__lb/api/placements", "POST", { key: CLIENT }, 400, "origin"],
      ["/__lb/api/placements", "POST", { key: CLIENT, origin: "nope" }, 404, "origin"],
      ["/__lb/api/placements?dry_run=maybe", "POST", { key: CLIENT, origin: "alpha" }, 400, "dry_run"],
      [`/__lb/api/placements/${encodeURIComponent(`${CLIENT}/32`)}`, "DELETE", undefined, 404, "key"],
    ];
    for (const [path, method, body, status, field] of cases) {
      const response = await call(path, method, body);
      expect([path, response.status]).toEqual([path, status]);
      expect(((await response.json()) as { field: string }).field).toBe(field);
    }
    expect((await stub().getSnapshot()).epoch).toBe(epoch);
    expect(await listed()).toEqual([]);
  });

  test("needs the token: reading and writing; a refused pin changes nothing", async () => {
    const epoch = (await stub().getSnapshot()).epoch;
    expect((await call("/__lb/api/placements", "GET", undefined, {})).status).toBe(401);
    expect((await call("/__lb/api/placements", "POST", { key: CLIENT, origin: "alpha" }, {})).status).toBe(401);
    expect((await stub().getSnapshot()).epoch).toBe(epoch);
    expect(await listed()).toEqual([]);
  });
});
