// The request path's side of load-aware placement: a split key's users pinned by the signed
// affinity cookie, through a failover and back; forged, stale and expired cookies ignored and counted.
import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { xxh32 } from "../../src/core/hash.ts";
import { clientKey } from "../../src/core/key/client-key.ts";
import type { Placement } from "../../src/core/placement/placement.ts";
import { fullWalk } from "../../src/core/placement/pool-load.ts";
import { buildRoutingTable } from "../../src/core/routing/routing-table.ts";
import { RING_OBJECT_NAME } from "../../src/ring-store/protocol.ts";
import { writePlacements } from "../../src/ring-store/placement-rows.ts";
import type { RingStore } from "../../src/ring-store/ring-store.ts";
import { cookieKey, signPin } from "../../src/worker/affinity-cookie.ts";
import type { Env } from "../../src/worker/env.ts";
import worker from "../../src/worker/index.ts";
import { placementCounters, resetPlacementCounters } from "../../src/worker/placement-route.ts";
import { resetRoutingCache } from "../../src/worker/routing-cache.ts";

type IncomingRequest = Request<unknown, IncomingRequestCfProperties>;

const NAT = "198.51.100.200";
const stub = () => env.RING.get(env.RING.idFromName(RING_OBJECT_NAME));
// No slow start here: a re-enabled origin takes its users back at once (the ramp is routing-view's, tested there).
const testEnv = { ...(env as Env), SLOW_START_MS: "0" } as Env;

async function call(ip: string, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request("https://lb.example/page", { headers: { "cf-connecting-ip": ip, ...headers } }) as IncomingRequest,
    testEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

const servedBy = async (response: Response) => ((await response.json()) as { origin: string }).origin;
const cookieOf = (response: Response) => response.headers.get("set-cookie")?.split(";")[0] ?? null;

/** Stores `placements` in the ring object as a plan would (with the epoch bump) and drops this isolate's table. */
async function place(placements: Placement[]): Promise<void> {
  await runInDurableObject(stub(), (instance: RingStore, state) => {
    state.storage.transactionSync(() => {
      writePlacements(state.storage.sql, placements);
      (instance as unknown as { bumpEpoch(): void }).bumpEpoch();
    });
  });
  resetRoutingCache();
}

/** The key of `ip` (the NAT's by default): its walk over the three test origins, its primary first. */
async function natWalk(ip = NAT): Promise<{ hash: number; walk: string[] }> {
  const snapshot = await stub().getSnapshot();
  const ring = buildRoutingTable(snapshot, 100).pools[0]!.ring;
  const hash = xxh32(clientKey(ip).bytes);
  return { hash, walk: fullWalk(ring, hash).map((m) => ring.ids[m]!) };
}

beforeEach(async () => {
  resetPlacementCounters();
  const { hash, walk } = await natWalk();
  await place([
    {
      key: `${NAT}/32`,
      hash,
      targets: walk.map((origin) => ({ origin, weight: 1 / walk.length })),
      decidedAt: Date.now(),
      rate: 100,
      manual: false,
    },
  ]);
});

afterEach(async () => {
  await place([]);
  for (const id of ["alpha", "bravo", "charlie"]) await stub().setOriginState(id, "active");
});

describe("a split key", () => {
  test("pins each user by cookie to one target, the first request already where the cookie sends the rest", async () => {
    const users = Array.from({ length: 24 }, (_, i) => `Mozilla/5.0 user-${i}`);
    const where = new Map<string, string>();
    for (const ua of users) {
      const first = await call(NAT, { "user-agent": ua });
      const cookie = cookieOf(first);
      expect(cookie).toMatch(/^lb_affinity=1\./);
      expect(first.headers.get("set-cookie")).toMatch(/Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
      const origin = await servedBy(first);
      where.set(ua, origin);
      // Later requests carry the cookie: same origin, even when the software's self-description changes.
      for (let i = 0; i < 3; i++) {
        const later = await call(NAT, { "user-agent": `${ua} updated`, cookie: cookie! });
        expect(await servedBy(later)).toBe(origin);
        expect(later.headers.get("set-cookie")).toBeNull();
      }
    }
    // Spread over more than one origin: the point of a split.
    expect(new Set(where.values()).size).toBeGreaterThan(1);
    expect(placementCounters()).toMatchObject({ issued: 24, pinned: 72, forged: 0, stale: 0, expired: 0 });
  });

  test("a client that is not a browser (no cookies to keep) stays on the primary and gets no cookie", async () => {
    const { walk } = await natWalk();
    for (const headers of [{ "user-agent": "curl/8.5.0" }, {}]) {
      for (let i = 0; i < 3; i++) {
        const response = await call(NAT, headers);
        expect(await servedBy(response)).toBe(walk[0]);
        expect(response.headers.get("set-cookie")).toBeNull();
      }
    }
  });

  test("a pinned user of a failed origin goes to its successor along the key's walk, and returns", async () => {
    const { walk } = await natWalk();
    let ua = "";
    let cookie = "";
    let origin = "";
    // A user pinned to a target that is not the last of the walk, so its successor is another target.
    for (let i = 0; origin === "" || origin === walk[walk.length - 1]; i++) {
      ua = `Mozilla/5.0 failover-${i}`;
      const first = await call(NAT, { "user-agent": ua });
      cookie = cookieOf(first)!;
      origin = await servedBy(first);
    }
    const successor = walk[walk.indexOf(origin) + 1]!;
    await stub().setOriginState(origin, "disabled");
    resetRoutingCache();
    for (let i = 0; i < 3; i++) expect(await servedBy(await call(NAT, { "user-agent": ua, cookie }))).toBe(successor);
    await stub().setOriginState(origin, "active");
    resetRoutingCache();
    expect(await servedBy(await call(NAT, { "user-agent": ua, cookie }))).toBe(origin);
  });

  test("a forged, stale or expired cookie is ignored and counted, never trusted", async () => {
    const { hash, walk } = await natWalk();
    // An API client, so that an ignored cookie shows as the primary (a browser would be drawn afresh).
    const ua = "curl/8.5.0";
    const other = walk[1]!;
    const key = (await cookieKey(env as unknown as Record<string, unknown>))!;
    const nowS = Math.floor(Date.now() / 1000);
    const valid = await signPin(key, { keyHash: hash, index: 1, origin: other, expiresAt: nowS + 600 });
    const [version, keyHash, index, , expires, mac] = valid.split(".");
    const cases: [string, string][] = [
      // Forged: a wrong MAC, another origin under a valid MAC, another expiry, junk.
      ["forged", `${valid.slice(0, -3)}AAA`],
      ["forged", [version, keyHash, "2", btoa(walk[2]!).replace(/=+$/, ""), expires, mac].join(".")],
      ["forged", [version, keyHash, index, valid.split(".")[3], String(nowS + 999_999), mac].join(".")],
      ["forged", "not-a-cookie"],
      // Stale: signed by us, but for another key, or for a target the placement no longer has there.
      ["stale", await signPin(key, { keyHash: hash ^ 1, index: 1, origin: other, expiresAt: nowS + 600 })],
      ["stale", await signPin(key, { keyHash: hash, index: 2, origin: other, expiresAt: nowS + 600 })],
      ["expired", await signPin(key, { keyHash: hash, index: 1, origin: other, expiresAt: nowS - 1 })],
    ];
    for (const [reason, value] of cases) {
      const name = reason as "forged" | "stale" | "expired";
      const before = placementCounters()[name];
      const response = await call(NAT, { "user-agent": ua, cookie: `theme=dark; lb_affinity=${value}` });
      expect([reason, value, await servedBy(response)]).toEqual([reason, value, walk[0]]);
      expect(placementCounters()[name]).toBe(before + 1);
    }
    // A browser with an ignored cookie gets a valid one.
    const browser = await call(NAT, { "user-agent": "Mozilla/5.0 b", cookie: "lb_affinity=not-a-cookie" });
    expect(cookieOf(browser)).toMatch(/^lb_affinity=1\./);
    // The valid cookie for the other target is trusted: that is what a cookie is for.
    expect(await servedBy(await call(NAT, { "user-agent": ua, cookie: `lb_affinity=${valid}` }))).toBe(other);
    // The status JSON shows this isolate's counts.
    const ctx = createExecutionContext();
    const statusResponse = await worker.fetch(
      new Request("https://lb.example/__lb/status", {
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      }) as IncomingRequest,
      testEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const status = (await statusResponse.json()) as {
      placement: { forged: number; stale: number; expired: number; placements: number };
    };
    expect(status.placement).toMatchObject({ forged: 5, stale: 2, expired: 1, placements: 1 });
  });

  test("an address that is not placed gets no cookie and its ring primary", async () => {
    const other = "203.0.113.77";
    const { walk } = await natWalk(other);
    const response = await call(other, { "user-agent": "Mozilla/5.0" });
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await servedBy(response)).toBe(walk[0]);
    expect(placementCounters().placed).toBe(0);
  });
});
