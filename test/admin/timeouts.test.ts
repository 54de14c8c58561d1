// The admin API with a Durable Object that never answers (issue 16): every call is bounded by
// ADMIN_TIMEOUT_MS and answers 503, never hangs.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import type { Env } from "../../src/worker/env.ts";
import worker from "../../src/worker/index.ts";

type IncomingRequest = Request<unknown, IncomingRequestCfProperties>;

/** A stub whose every RPC method returns a promise that never settles, and counts the calls. */
function hungRing(calls: string[]): Env["RING"] {
  const stub = new Proxy(
    {},
    {
      get: (_, name) => (typeof name === "string" ? () => (calls.push(name), new Promise(() => undefined)) : undefined),
    },
  );
  return { idFromName: () => ({}), get: () => stub } as unknown as Env["RING"];
}

async function call(path: string, method: string, calls: string[], body?: unknown): Promise<[Response, number]> {
  const headers = new Headers({ authorization: `Bearer ${env.ADMIN_TOKEN}`, "cf-connecting-ip": "203.0.113.9" });
  if (body !== undefined) headers.set("content-type", "application/json");
  const testEnv = { ...(env as Env), RING: hungRing(calls), ADMIN_TIMEOUT_MS: "300" } as Env;
  const ctx = createExecutionContext();
  const started = Date.now();
  const response = await worker.fetch(
    new Request(`https://lb.example${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
    }) as IncomingRequest,
    testEnv,
    ctx,
  );
  const elapsed = Date.now() - started;
  // Not awaited: a background refresh against the hung object would keep the context open.
  void waitOnExecutionContext(ctx);
  return [response, elapsed];
}

describe("admin API against a hung Durable Object", () => {
  test.each([
    ["GET", "/__lb/api/origins", undefined, "listOrigins"],
    ["GET", "/__lb/api/regions", undefined, "getSnapshot"],
    ["GET", "/__lb/api/audit", undefined, "getAudit"],
    ["PUT", "/__lb/api/origins/alpha/state", { state: "draining" }, "applyChange"],
    ["DELETE", "/__lb/api/origins/alpha", undefined, "applyChange"],
  ])("%s %s answers 503 within ADMIN_TIMEOUT_MS", async (method, path, body, rpc) => {
    const calls: string[] = [];
    const [response, elapsed] = await call(path, method, calls, body);
    expect(response.status).toBe(503);
    expect(calls).toContain(rpc);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(5_000);
    const answer = (await response.json()) as { error: string };
    if (method !== "GET") expect(answer.error).toMatch(/may or may not have been applied/);
  });
});
