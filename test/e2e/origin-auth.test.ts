// End to end: origins that accept only the balancer (ORIGIN_AUTH_SECRET). They refuse clients
// that come straight to them; through the balancer every request and every probe carries the
// secret, a client's own copy of the header is replaced, and a rotation passes with no error.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DemoOrigin } from "../../scripts/demo-origins.ts";
import { startBalancer, untilStatus, type Balancer } from "./harness.ts";

const OLD = "old-origin-secret-0123456789abcdef";
const NEW = "new-origin-secret-fedcba9876543210";
const HEADER = "x-lb-origin-auth";

interface Status {
  origins: { id: string; health: string }[];
}

const until = (lb: Balancer, done: (s: Status) => boolean) => untilStatus(lb, done, 15_000);

const FAST_PROBES = {
  STATUS_PUBLIC: "true",
  HEALTH_PATH: "/healthz",
  HEALTH_INTERVAL_MS: "300",
  SNAPSHOT_TTL_MS: "200",
};

describe("origins that accept only the balancer", () => {
  const accept = [OLD];
  let lb: Balancer;
  let origins: DemoOrigin[];
  beforeAll(async () => {
    lb = await startBalancer(
      ["s1", "s2"],
      { ...FAST_PROBES, ORIGIN_AUTH_SECRET: OLD },
      { requireAuth: { header: HEADER, accept } },
    );
    origins = lb.origins;
  });
  afterAll(() => lb?.close());

  test("a client going straight to an origin is refused", async () => {
    expect((await fetch(origins[0]!.url)).status).toBe(403);
    expect((await fetch(origins[0]!.url, { headers: { [HEADER]: "guess" } })).status).toBe(403);
  });

  test("through the balancer every request carries the secret, and probes pass", async () => {
    await until(lb, (s) => s.origins.every((o) => o.health === "up"));
    for (let i = 0; i < 20; i++) expect((await lb.request("/", `192.0.2.${i + 1}`)).status).toBe(200);
    const seen = origins.flatMap((o) => o.seen);
    expect(seen.length).toBeGreaterThanOrEqual(20);
    for (const request of seen) expect(request.headers[HEADER]).toBe(OLD);
  });

  test("a client's own header of that name is replaced, never forwarded", async () => {
    for (const o of origins) o.seen.length = 0;
    const served = await lb.request("/", "192.0.2.200", { headers: { [HEADER]: "forged-by-the-client" } });
    expect(served.status).toBe(200);
    const [request] = origins.flatMap((o) => o.seen);
    expect(request!.headers[HEADER]).toBe(OLD);
  });

  test("the secret is not in the status JSON, the status page or the metrics", async () => {
    for (const path of ["/__lb/status", "/__lb/", "/__lb/metrics"]) {
      const text = await (await fetch(new URL(path, lb.url))).text();
      expect(text, path).not.toContain(OLD);
    }
  });

  test("rotation: the origins accept both, the balancer moves to the new secret, the origins drop the old one; no error", async () => {
    accept.push(NEW);
    const next = await startBalancer(
      ["r1"],
      { ...FAST_PROBES, ORIGIN_AUTH_SECRET: NEW },
      { requireAuth: { header: HEADER, accept } },
    );
    try {
      await until(next, (s) => s.origins.every((o) => o.health === "up"));
      // Both deployments serve while the origins accept both.
      expect((await lb.request("/", "192.0.2.9")).status).toBe(200);
      expect((await next.request("/", "192.0.2.9")).status).toBe(200);
      accept.splice(0, 1); // the old secret is retired
      expect((await next.request("/", "192.0.2.10")).status).toBe(200);
      expect((await lb.request("/", "192.0.2.10")).status).toBe(403);
    } finally {
      await next.close();
    }
  });
});

describe("a balancer without the secret in front of locked origins", () => {
  let lb: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["u1", "u2"], FAST_PROBES, { requireAuth: { header: HEADER, accept: [OLD] } });
  });
  afterAll(() => lb?.close());

  test("its probes are refused, so the origins go down: the mistake shows on the status page", async () => {
    await until(lb, (s) => s.origins.every((o) => o.health === "down"));
    expect(lb.origins.every((o) => o.refused() > 0)).toBe(true);
  });
});
