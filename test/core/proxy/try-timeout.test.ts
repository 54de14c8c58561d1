// fetchWithin against a real HTTP server on loopback, with Node's fetch: what each way of bounding
// an attempt does to the connection (workerd's side: test/e2e/balancer.test.ts, "a per-try timeout").
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fetchWithin } from "../../../src/core/proxy/try-timeout.ts";

let server: http.Server;
let base: string;
/** Per path: how its response ended ("finished" or "closed" before it finished). */
const ended = new Map<string, "finished" | "closed">();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    res.on("close", () => ended.set(url.pathname, res.writableFinished ? "finished" : "closed"));
    const delay = Number(url.searchParams.get("delay") ?? 0);
    // Headers after `delay` ms, then a body that keeps streaming for 2 s unless the client goes away.
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first\n");
      setTimeout(() => res.destroyed || res.end("last\n"), 2_000);
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function until(path: string, ms: number): Promise<string | undefined> {
  const by = Date.now() + ms;
  while (!ended.has(path) && Date.now() < by) await sleep(10);
  return ended.get(path);
}

describe.each([
  ["raced", false],
  ["aborted", true],
])("fetchWithin, %s", (_, abort) => {
  test("an answer in time is returned whole", async () => {
    const path = `/in-time-${abort}`;
    const response = await fetchWithin(fetch, `${base}${path}?delay=10`, {}, 5_000, abort);
    expect(response?.status).toBe(200);
    expect(await response!.text()).toBe("first\nlast\n");
    expect(await until(path, 1_000)).toBe("finished");
  });

  test("no headers within the timeout → null, after the timeout and not long after", async () => {
    const path = `/late-${abort}`;
    const started = Date.now();
    const response = await fetchWithin(fetch, `${base}${path}?delay=1000`, {}, 200, abort);
    const elapsed = Date.now() - started;
    expect(response).toBeNull();
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(800);
    // Aborted: the connection closes at once. Raced: the late answer's body is cancelled when it
    // comes (here, the runtime also cancels it when the client's request ends), never read whole.
    expect(await until(path, abort ? 300 : 2_000)).toBe("closed");
  });

  test("a refused connection rejects (a network error, not a timeout)", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(fetchWithin(fetch, `http://127.0.0.1:${port}/`, {}, 1_000, abort)).rejects.toThrow();
  });
});

test("raced: the fetch gets no abort signal; aborted: it does", async () => {
  const inits: RequestInit[] = [];
  const fake = (async (_: unknown, init?: RequestInit) => {
    inits.push(init ?? {});
    return new Response("ok");
  }) as typeof fetch;
  await fetchWithin(fake, base, { method: "GET" }, 1_000, false);
  await fetchWithin(fake, base, { method: "GET" }, 1_000, true);
  expect(inits[0]!.signal).toBeUndefined();
  expect(inits[1]!.signal).toBeInstanceOf(AbortSignal);
  expect(inits[1]!.method).toBe("GET");
});

// Node's fetch, unlike workerd's, ends the body when its signal fires: in workerd a retry's body
// is not cut either (test/e2e/balancer.test.ts, "a retry's timeout").
test("raced: the timer passing while the body streams does not cut it", async () => {
  const path = "/streaming";
  const response = await fetchWithin(fetch, `${base}${path}?delay=10`, {}, 300, false);
  await sleep(400);
  expect(await response!.text()).toBe("first\nlast\n");
  expect(await until(path, 1_000)).toBe("finished");
});
