// The per-location snapshot cache inside workerd (Miniflare's Cache API): a second isolate of the
// same location routes without calling the Durable Object, an admin change reaches the location
// at once, a head behind an isolate never takes it back, and a failure report about an origin the
// location already routes around is not sent. Isolates are simulated by forgetting the module
// state (resetRoutingCache), which is all an isolate keeps.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, test } from "vitest";
import { freshLayout } from "../../src/core/ring/slot-layout.ts";
import type { Env } from "../../src/worker/env.ts";
import worker from "../../src/worker/index.ts";
import {
  decodeLayouts,
  encodeLayouts,
  locationCache,
  readLocation,
  writeLocation,
} from "../../src/worker/location-cache.ts";
import { RING_OBJECT_NAME } from "../../src/ring-store/protocol.ts";
import { cacheStatus, resetRoutingCache, reportsStillNews } from "../../src/worker/routing-cache.ts";

type IncomingRequest = Request<unknown, IncomingRequestCfProperties>;

const stub = () => env.RING.get(env.RING.idFromName(RING_OBJECT_NAME));
// A production-like TTL: the head lives 5 s (the suite's 200 ms TTL turns the cache off).
const testEnv = { ...(env as Env), SNAPSHOT_TTL_MS: "10000", HEALTH_INTERVAL_MS: "0" } as Env;
let host = 0;

async function call(origin: string, path = "/", init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const headers = new Headers(init.headers);
  headers.set("cf-connecting-ip", "198.51.100.20");
  const response = await worker.fetch(
    new Request(`${origin}${path}`, { ...init, headers }) as IncomingRequest,
    testEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

const getUpdates = async () => (await stub().callCounts()).getUpdate;
/** The location cache the worker uses for `origin` (keyed by the ring object's id too). */
const here = (deployment = env.RING.idFromName(RING_OBJECT_NAME).toString()) =>
  locationCache(origin, "/__lb", 10_000, true, deployment)!;

// Each test uses a host of its own: the Cache API is keyed by URL, and its entries outlive a test.
let origin = "";
beforeEach(() => {
  resetRoutingCache();
  origin = `https://lb-${++host}.example`;
});

describe("location cache", () => {
  test("a second isolate of the location routes without calling the Durable Object", async () => {
    const before = await getUpdates();
    expect((await call(origin)).status).toBe(200);
    expect(await getUpdates()).toBe(before + 1);
    resetRoutingCache(); // another isolate
    expect((await call(origin)).status).toBe(200);
    expect(cacheStatus().locationHits).toBe(1);
    expect(await getUpdates()).toBe(before + 1);
    // Another host is another cache key: it asks the object.
    resetRoutingCache();
    await call(`https://other-${host}.example`);
    expect(await getUpdates()).toBe(before + 2);
  });

  test("an admin change refreshes from the object and reaches the location's other isolates", async () => {
    await call(origin);
    const { epoch } = await stub().getSnapshot();
    const changed = await call(origin, "/__lb/api/origins/bravo/state", {
      method: "PUT",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN!}`, "content-type": "application/json" },
      body: JSON.stringify({ state: "draining" }),
    });
    expect(changed.status).toBe(200);
    resetRoutingCache(); // another isolate: it finds the new epoch at the location
    const calls = await getUpdates();
    await call(origin);
    expect(cacheStatus().locationHits).toBe(1);
    expect(await getUpdates()).toBe(calls);
    const location = here();
    expect((await readLocation(location, null, null))?.epoch).toBeGreaterThan(epoch);
    await call(origin, "/__lb/api/origins/bravo/state", {
      method: "PUT",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN!}`, "content-type": "application/json" },
      body: JSON.stringify({ state: "active" }),
    });
  });

  test("a head behind the isolate is ignored; a head never goes backwards; layouts survive the round trip", async () => {
    const location = here();
    const snapshot = await stub().getUpdate(null);
    await writeLocation(location, snapshot);
    expect(await readLocation(location, snapshot.epoch + 1, snapshot.layoutEpoch)).toBeNull();
    // Nothing new for an isolate at the head's epoch: no origin list, no layouts.
    expect(await readLocation(location, snapshot.epoch, snapshot.layoutEpoch)).toMatchObject({
      epoch: snapshot.epoch,
      origins: null,
      layouts: null,
    });
    const whole = await readLocation(location, null, null);
    expect(whole).toEqual({ ...snapshot, layouts: decodeLayouts(encodeLayouts(snapshot.layouts!)) });
    expect(Array.from(whole!.layouts![""]!.owners)).toEqual(Array.from(snapshot.layouts![""]!.owners));
    await writeLocation(location, { ...snapshot, epoch: snapshot.epoch - 1, origins: null, layouts: null });
    expect((await readLocation(location, null, null))?.epoch).toBe(snapshot.epoch);
    // Another deployment on the same host (another ring object) does not see these entries.
    expect(await readLocation(here("another-deployment"), null, null)).toBeNull();

    const layout = freshLayout(
      ["a", "b", "c"].map((id) => ({ id, weight: 1 })),
      100,
      7,
    );
    expect(Array.from(decodeLayouts(encodeLayouts({ x: layout })).x!.owners)).toEqual(Array.from(layout.owners));
  });

  test("a failure report about an origin the location already routes around is not sent", async () => {
    await call(origin);
    const before = await stub().getSnapshot();
    const location = here();
    // Another isolate of the location learnt that charlie is disabled (a newer epoch at the head).
    await stub().setOriginState("charlie", "disabled");
    await writeLocation(location, await stub().getUpdate(before.epoch));
    const ctx = createExecutionContext();
    const news = await reportsStillNews(
      testEnv,
      {
        snapshotTtlMs: 10_000,
        doTimeoutMs: 2_000,
        ringSlotsPerOrigin: 100,
        placement: { trafficWindowMs: 60_000 },
      } as never,
      ctx,
      location,
      [
        { id: "charlie", successes: 0, failures: 3, trailingFailures: 3 },
        { id: "alpha", successes: 0, failures: 1, trailingFailures: 1 },
      ],
    );
    await waitOnExecutionContext(ctx);
    expect(news.map((entry) => entry.id)).toEqual(["alpha"]);
    // This isolate caught up from the location, without a call to the object.
    expect(cacheStatus().locationHits).toBe(1);
    await stub().setOriginState("charlie", "active");
  });
});
