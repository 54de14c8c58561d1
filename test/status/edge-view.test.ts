// The operators' view of load-aware placement: the isolates' counts reach the ring object with
// their refreshes, and the status JSON and page show them edge-wide with the placements.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import type { Env } from "../../src/worker/env.ts";
import worker from "../../src/worker/index.ts";
import { resetEdgeTraffic } from "../../src/worker/edge-traffic.ts";
import { resetRoutingCache } from "../../src/worker/routing-cache.ts";

type IncomingRequest = Request<unknown, IncomingRequestCfProperties>;

async function call(path: string, ip = "203.0.113.60", headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`https://lb.example${path}`, {
      headers: { "cf-connecting-ip": ip, authorization: `Bearer ${env.ADMIN_TOKEN}`, ...headers },
    }) as IncomingRequest,
    env as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

interface EdgeJson {
  edge: {
    reports: number;
    origins: { id: string; requestsPerSecond: number }[];
    keys: { key: string; share: number; placedOn: unknown; split: boolean }[];
  } | null;
}

describe("edge-wide view", () => {
  test("an isolate's counts ride on its next refresh, and show in the status JSON and page", async () => {
    resetEdgeTraffic();
    for (let i = 0; i < 30; i++) await (await call("/x", "203.0.113.61", { "user-agent": `ua-${i % 3}` })).text();
    for (let i = 0; i < 5; i++) await (await call("/x", `198.51.100.${i}`)).text();
    // The next refresh (a cold table here) goes to the object and carries the counts.
    resetRoutingCache();
    await (await call("/x")).text();
    const status = (await (await call("/__lb/status")).json()) as EdgeJson;
    expect(status.edge).not.toBeNull();
    expect(status.edge!.reports).toBeGreaterThanOrEqual(1);
    expect(status.edge!.origins.reduce((sum, o) => sum + o.requestsPerSecond, 0)).toBeGreaterThan(0);
    const hot = status.edge!.keys.find((k) => k.key === "203.0.113.61/32")!;
    expect(hot.share).toBeGreaterThan(0.8);
    // Not placed yet: the object plans only from a view covering a third of a window.
    expect(hot).toMatchObject({ placedOn: null, split: false });

    const page = await (await call("/__lb/")).text();
    expect(page).toContain("Load-aware placement");
    expect(page).toContain("203.0.113.61/32");
  });
});
