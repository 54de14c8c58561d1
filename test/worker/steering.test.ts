// Regional pools inside workerd: requests carry `request.cf` (set on the Request, as Cloudflare's
// edge sets it), the regions and the origins' regions come from the Durable Object (the admin
// API's changes), and the worker steers each request to its pool, hashes within it, and fails over
// to the next pool only when its own has no eligible origin.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { Env } from "../../src/worker/env.ts";
import worker from "../../src/worker/index.ts";
import { resetRoutingCache } from "../../src/worker/routing-cache.ts";

type IncomingRequest = Request<unknown, IncomingRequestCfProperties>;

const testEnv = { ...(env as Env), DEBUG_HEADERS: "true", HEALTH_INTERVAL_MS: "0", SLOW_START_MS: "0" } as Env;

const REGIONS = [
  { id: "eu", latitude: 50.11, longitude: 8.68, countries: ["DE", "FR"], continents: ["EU"] },
  { id: "us", latitude: 39.04, longitude: -77.49, continents: ["NA"] },
];
const BERLIN = { country: "DE", continent: "EU", latitude: "52.52", longitude: "13.40" };
const NEW_YORK = { country: "US", continent: "NA", latitude: "40.71", longitude: "-74.00" };
// No mapping: São Paulo is nearer Virginia (7,600 km) than Frankfurt (9,800 km).
const SAO_PAULO = { country: "BR", continent: "SA", latitude: "-23.55", longitude: "-46.63" };

interface Placed {
  readonly status: number;
  readonly pool: string | null;
  readonly origin: string | null;
}

async function place(ip: string, cf: Record<string, string> | null): Promise<Placed> {
  const ctx = createExecutionContext();
  const init: RequestInit = { headers: { "cf-connecting-ip": ip } };
  if (cf !== null) (init as { cf?: unknown }).cf = cf;
  const response = await worker.fetch(new Request("https://lb.example/", init) as IncomingRequest, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  await response.body?.cancel();
  return {
    status: response.status,
    pool: response.headers.get("x-lb-pool"),
    origin: response.headers.get("x-lb-origin"),
  };
}

const clients = Array.from({ length: 40 }, (_, i) => `198.18.0.${i + 1}`);
const placeAll = (cf: Record<string, string> | null) => Promise.all(clients.map((ip) => place(ip, cf)));

async function change(path: string, method: string, json: unknown): Promise<void> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`https://lb.example/__lb/api/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${env.ADMIN_TOKEN!}`,
        "content-type": "application/json",
        "cf-connecting-ip": "203.0.113.9",
      },
      body: JSON.stringify(json),
    }) as IncomingRequest,
    testEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  expect(response.status, await response.text()).toBe(200);
}

beforeAll(async () => {
  // alpha and bravo serve eu, charlie us (the bootstrap list gives them no region).
  await change("regions", "PUT", { regions: REGIONS, defaultRegion: "eu" });
  await change("origins/alpha", "PATCH", { region: "eu" });
  await change("origins/bravo", "PATCH", { region: "eu" });
  await change("origins/charlie", "PATCH", { region: "us" });
});
beforeEach(() => resetRoutingCache());

describe("steering by request.cf", () => {
  test("country, continent, nearest and default each pick the home pool; clients stay on one origin", async () => {
    const de = await placeAll(BERLIN);
    const us = await placeAll(NEW_YORK);
    const br = await placeAll(SAO_PAULO);
    const none = await placeAll(null);
    for (const p of de) expect(p).toMatchObject({ status: 200, pool: "eu" });
    for (const p of us) expect(p).toMatchObject({ status: 200, pool: "us", origin: "charlie" });
    for (const p of br) expect(p).toMatchObject({ status: 200, pool: "us", origin: "charlie" });
    for (const p of none) expect(p).toMatchObject({ status: 200, pool: "eu" });
    // The hash spreads eu's clients over both eu origins, the same way every time and from any location.
    expect(new Set(de.map((p) => p.origin))).toEqual(new Set(["alpha", "bravo"]));
    expect(await placeAll(BERLIN)).toEqual(de);
    expect(none.map((p) => p.origin)).toEqual(de.map((p) => p.origin));
  });

  test("a pool with no eligible origin sends its clients to the next pool; they return when it recovers", async () => {
    const before = await placeAll(NEW_YORK);
    const berlin = await placeAll(BERLIN);
    await change("origins/charlie/state", "PUT", { state: "disabled" });
    resetRoutingCache();
    const moved = await placeAll(NEW_YORK);
    for (const p of moved) expect(p).toMatchObject({ status: 200, pool: "eu" });
    // Placed by the same key on eu's ring: exactly where a Berlin client with that address goes.
    expect(moved.map((p) => p.origin)).toEqual(berlin.map((p) => p.origin));
    // eu's own clients did not move.
    expect(await placeAll(BERLIN)).toEqual(berlin);

    await change("origins/charlie/state", "PUT", { state: "active" });
    resetRoutingCache();
    // Every client home at once, on the origin it had (SLOW_START_MS 0 here; the ramp is tested in core).
    expect(await placeAll(NEW_YORK)).toEqual(before);
  });
});
