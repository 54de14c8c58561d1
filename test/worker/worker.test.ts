import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, inject, test } from "vitest";
import type { Env } from "../../src/worker/env.ts";
import worker from "../../src/worker/index.ts";
import { RING_OBJECT_NAME } from "../../src/ring-store/protocol.ts";
import { resetRoutingCache } from "../../src/worker/routing-cache.ts";

type IncomingRequest = Request<unknown, IncomingRequestCfProperties>;

const origins = JSON.parse(inject("origins")) as { id: string; url: string }[];
const stub = () => env.RING.get(env.RING.idFromName(RING_OBJECT_NAME));

async function call(path: string, init: RequestInit & { ip?: string | null } = {}, testEnv: Env = env as Env) {
  const headers = new Headers(init.headers);
  if (init.ip !== null) headers.set("cf-connecting-ip", init.ip ?? "198.51.100.7");
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`https://lb.example${path}`, { ...init, headers }) as IncomingRequest,
    testEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

const servedBy = async (response: Response) => ((await response.json()) as { origin: string }).origin;

async function seen(): Promise<Record<string, { url: string; headers: Record<string, string> }[]>> {
  const entries = await Promise.all(
    origins.map(
      async (o) =>
        [
          o.id,
          (
            (await (await fetch(`${o.url}/_control/seen`)).json()) as {
              seen: never[];
            }
          ).seen,
        ] as const,
    ),
  );
  return Object.fromEntries(entries);
}

beforeEach(async () => {
  resetRoutingCache();
  await Promise.all(origins.map((o) => fetch(`${o.url}/_control/seen`, { method: "DELETE" })));
});

describe("worker", () => {
  test("the same client lands on the same origin every time, in every textual form", async () => {
    const forms = [
      "2001:db8:aa:bb::1",
      "2001:DB8:AA:BB:0:0:0:1",
      "2001:0db8:00aa:00bb::0001",
      "2001:db8:aa:bb:ffff::9",
    ];
    const served = new Set<string>();
    for (let round = 0; round < 3; round++) {
      for (const ip of forms) served.add(await servedBy(await call("/", { ip })));
    }
    expect(served.size).toBe(1);
  });

  test("tells the origin the client address and drops hop-by-hop fields", async () => {
    const response = await call("/hello?x=1", {
      ip: "203.0.113.9",
      headers: {
        "x-forwarded-for": "10.0.0.1",
        connection: "x-secret",
        "x-secret": "1",
        "keep-alive": "timeout=5",
      },
    });
    const id = await servedBy(response);
    const [request] = (await seen())[id]!;
    expect(request!.url).toBe("/hello?x=1");
    expect(request!.headers["x-forwarded-for"]).toBe("10.0.0.1, 203.0.113.9");
    expect(request!.headers.via).toBe("1.1 edge-affinity-lb");
    expect(request!.headers["x-secret"]).toBeUndefined();
    expect(request!.headers["keep-alive"]).toBeUndefined();
    expect(request!.headers.host).toBe(new URL(origins.find((o) => o.id === id)!.url).host);
    expect(request!.headers["cf-connecting-ip"]).toBeUndefined();
    // FORWARD_HEADERS' default adds only X-Forwarded-For besides Via.
    for (const name of ["x-forwarded-proto", "x-real-ip", "x-forwarded-host", "forwarded", "x-lb-successor"])
      expect(request!.headers[name], name).toBeUndefined();
  });

  test("FORWARD_HEADERS adds the fields it names; a client's X-Real-IP and X-Forwarded-Host never pass, its -Proto only when not named", async () => {
    const spoofed = {
      "x-real-ip": "10.6.6.6",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "gopher",
      "x-lb-successor": "evil",
    };
    const all = "x-forwarded-for,x-forwarded-proto,x-forwarded-host,x-real-ip,forwarded,x-lb-successor";
    const full = await call("/", { ip: "203.0.113.9", headers: spoofed }, { ...(env as Env), FORWARD_HEADERS: all });
    const primary = await servedBy(full);
    const [sent] = (await seen())[primary]!;
    expect(sent!.headers["x-real-ip"]).toBe("203.0.113.9");
    expect(sent!.headers["x-forwarded-host"]).toBe("lb.example");
    expect(sent!.headers["x-forwarded-proto"]).toBe("https");
    expect(sent!.headers.forwarded).toBe("for=203.0.113.9;proto=https;host=lb.example");
    expect(["alpha", "bravo", "charlie"]).toContain(sent!.headers["x-lb-successor"]);
    expect(sent!.headers["x-lb-successor"]).not.toBe(primary);

    const none = await call("/", { ip: "203.0.113.9", headers: spoofed }, { ...(env as Env), FORWARD_HEADERS: "none" });
    const bare = (await seen())[await servedBy(none)]!.at(-1);
    for (const name of ["x-forwarded-for", "x-real-ip", "x-forwarded-host", "forwarded", "x-lb-successor"])
      expect(bare!.headers[name], name).toBeUndefined();
    // Not named: passed as it came (on Cloudflare, the edge's own value).
    expect(bare!.headers["x-forwarded-proto"]).toBe("gopher");
    expect(bare!.headers.via).toBe("1.1 edge-affinity-lb");

    // A bad list changes nothing: 503 misconfigured, and no origin is contacted.
    const contacted = async () => Object.values(await seen()).reduce((n, list) => n + list.length, 0);
    const before = await contacted();
    const bad = await call("/", { ip: "203.0.113.9" }, { ...(env as Env), FORWARD_HEADERS: "x-forwarded-for,via" });
    expect(bad.status).toBe(503);
    expect(await bad.text()).toBe("load balancer misconfigured\n");
    expect(await contacted()).toBe(before);
  });

  test("a Connection header naming no valid field does NOT fail the request", async () => {
    const response = await call("/", { headers: { connection: "foo bar, (x), keep-alive" } });
    expect(response.status).toBe(200);
    expect(await servedBy(response)).toMatch(/^(alpha|bravo|charlie)$/);
  });

  test("Forwarded and Via that the client's Connection names are dropped, not appended to", async () => {
    const response = await call(
      "/",
      {
        ip: "203.0.113.9",
        headers: { connection: "forwarded, via", forwarded: "for=10.6.6.6", via: "1.0 spoofed" },
      },
      { ...(env as Env), FORWARD_HEADERS: "forwarded" },
    );
    const [request] = (await seen())[await servedBy(response)]!;
    expect(request!.headers.forwarded).toBe("for=203.0.113.9;proto=https;host=lb.example");
    expect(request!.headers.via).toBe("1.1 edge-affinity-lb");
  });

  test("a response is passed through WITHOUT our Via by default; VIA_RESPONSE=true appends it", async () => {
    const plain = await call("/", { ip: "203.0.113.9" });
    expect(plain.headers.has("via")).toBe(false);
    expect(plain.headers.get("content-type")).toMatch(/json/);
    const withVia = await call("/", { ip: "203.0.113.9" }, { ...(env as Env), VIA_RESPONSE: "true" });
    expect(withVia.headers.get("via")).toBe("1.1 edge-affinity-lb");
    expect(await servedBy(withVia)).toBe(await servedBy(plain));
  });

  test("a missing or malformed CF-Connecting-IP gets a stable fallback origin, never a 5xx", async () => {
    const missing = new Set<string>();
    const malformed = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const a = await call("/", { ip: null });
      expect(a.status).toBe(200);
      missing.add(await servedBy(a));
      const b = await call("/", { ip: `not-an-ip-${i}` });
      expect(b.status).toBe(200);
      malformed.add(await servedBy(b));
    }
    expect(missing.size).toBe(1);
    expect(malformed.size).toBe(1);
  });

  test("GET {prefix}/status reports epoch and origins WITHOUT their URLs", async () => {
    const response = await call("/__lb/status", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
    const text = await response.text();
    const status = JSON.parse(text) as {
      epoch: number;
      source: string;
      origins: { id: string }[];
    };
    expect(status.source).toBe("durable-object");
    expect(status.epoch).toBeGreaterThanOrEqual(1);
    expect(status.origins.map((o) => o.id)).toEqual(["alpha", "bravo", "charlie"]);
    for (const o of origins) expect(text).not.toContain(new URL(o.url).host);
  });

  test("nothing under the reserved prefix reaches an origin; a look-alike path does", async () => {
    for (const path of ["/__lb", "/__lb/", "/__lb/admin", "/__lb/status/../x"]) {
      const response = await call(path);
      // 401: the status page and status need the admin token (STATUS_PUBLIC is false).
      expect([200, 401, 404], path).toContain(response.status);
    }
    expect(Object.values(await seen()).flat()).toHaveLength(0);
    expect((await call("/__lbx")).status).toBe(200);
    expect(Object.values(await seen()).flat()).toHaveLength(1);
  });

  test("a disabled origin's clients move to their successors within the TTL, and come back when it is re-enabled (no slow start)", async () => {
    const noRamp = { ...(env as Env), SLOW_START_MS: "0" } as Env;
    const clients = Array.from({ length: 60 }, (_, i) => `192.0.2.${i + 1}`);
    const before = new Map<string, string>();
    for (const ip of clients) before.set(ip, await servedBy(await call("/", { ip }, noRamp)));
    const victim = before.get(clients[0]!)!;

    await stub().setOriginState(victim, "disabled");
    await new Promise((resolve) => setTimeout(resolve, 250)); // SNAPSHOT_TTL_MS is 200 in tests
    await call("/", { ip: clients[0] }, noRamp); // this request starts the background refresh
    const during = new Map<string, string>();
    for (const ip of clients) during.set(ip, await servedBy(await call("/", { ip }, noRamp)));
    for (const ip of clients) {
      if (before.get(ip) === victim) expect(during.get(ip)).not.toBe(victim);
      else expect(during.get(ip), `${ip} must not move`).toBe(before.get(ip));
    }

    await stub().setOriginState(victim, "active");
    await new Promise((resolve) => setTimeout(resolve, 250));
    await call("/", { ip: clients[0] }, noRamp);
    for (const ip of clients) expect(await servedBy(await call("/", { ip }, noRamp))).toBe(before.get(ip));
  });

  test("invalid settings answer 503 without a detail, and contact no origin", async () => {
    const response = await call("/", {}, { ...(env as Env), MAX_ATTEMPTS: "zero" });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("load balancer misconfigured\n");
    expect(Object.values(await seen()).flat()).toHaveLength(0);
  });
});
