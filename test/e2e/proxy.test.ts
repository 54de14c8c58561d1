// End to end: HTTP semantics through the balancer in workerd, against real origins on loopback
// that stream, reset mid-body, compress, set cookies, redirect and speak WebSocket.
import http from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { WebSocket } from "ws";
import type { DemoOrigin } from "../../scripts/demo-origins.ts";
import { rawRequest, startBalancer, type Balancer } from "./harness.ts";

interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  error: string | null;
  firstChunkAt: number | null;
}

/** A request through node:http, so bodies can stream in and out and raw headers are visible. */
function exchange(
  lb: Balancer,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | (() => AsyncIterable<Buffer>) } = {},
): Promise<Exchange> {
  return new Promise((resolve) => {
    const result: Exchange = { status: 0, headers: {}, body: Buffer.alloc(0), error: null, firstChunkAt: null };
    const chunks: Buffer[] = [];
    const req = http.request(
      {
        host: lb.url.hostname,
        port: lb.url.port,
        path,
        method: options.method ?? "GET",
        headers: { "cf-connecting-ip": "192.0.2.77", ...options.headers },
      },
      (res) => {
        result.status = res.statusCode ?? 0;
        result.headers = res.headers;
        res.on("data", (chunk: Buffer) => {
          result.firstChunkAt ??= Date.now();
          chunks.push(chunk);
        });
        res.on("end", () => resolve({ ...result, body: Buffer.concat(chunks) }));
        res.on("error", (e) => resolve({ ...result, body: Buffer.concat(chunks), error: e.message }));
      },
    );
    req.on("error", (e) => resolve({ ...result, body: Buffer.concat(chunks), error: e.message }));
    const body = options.body;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else
      void (async () => {
        for await (const chunk of body()) if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
        req.end();
      })();
  });
}

async function* chunked(total: number, size = 65_536): AsyncIterable<Buffer> {
  const chunk = Buffer.alloc(size, 98);
  for (let sent = 0; sent < total; sent += size) yield sent + size <= total ? chunk : chunk.subarray(0, total - sent);
}

const servedBy = (lb: Balancer, ip: string) => lb.request("/", ip).then((r) => r.origin!);
const originNamed = (lb: Balancer, id: string) => lb.origins.find((o) => o.id === id)!;
const requestsFor = (o: DemoOrigin, prefix: string) => o.seen.filter((r) => r.url.startsWith(prefix)).length;

describe("streaming and large bodies", () => {
  let lb: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["s1"], { MAX_BODY_BYTES: "20000000" });
  });
  afterAll(() => lb?.close());

  test("the client gets the first bytes before the origin has finished", async () => {
    const response = await exchange(lb, "/_special/stream?delay=800");
    expect(response.body.toString()).toBe("first\nlast\n");
    const ended = originNamed(lb, "s1").streamEndedAt()!;
    expect(response.firstChunkAt).not.toBeNull();
    expect(response.firstChunkAt!).toBeLessThan(ended);
  });

  test("a 10 MB chunked upload and a 10 MB download pass through whole", async () => {
    const up = await exchange(lb, "/upload", { method: "POST", body: () => chunked(10_485_760) });
    expect(up.status).toBe(200);
    expect(JSON.parse(up.body.toString()).bodyBytes).toBe(10_485_760);
    const down = await exchange(lb, "/_special/big?bytes=10485760");
    expect(down.status).toBe(200);
    expect(down.body.length).toBe(10_485_760);
  });
});

describe("the per-try timeout bounds the wait for headers only", () => {
  let lb: Balancer;
  let rebuilt: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["t1"], { TRY_TIMEOUT_MS: "200" });
    // VIA_RESPONSE rebuilds every response around the origin's body instead of passing it through.
    rebuilt = await startBalancer(["t2"], { TRY_TIMEOUT_MS: "200", VIA_RESPONSE: "true" });
  });
  afterAll(async () => {
    await lb?.close();
    await rebuilt?.close();
  });

  // The attempt's AbortSignal.timeout fires while the body streams; the body is NOT cut (a retry's
  // too: test/e2e/balancer.test.ts).
  test.each([
    ["passed through", () => lb],
    ["rebuilt (VIA_RESPONSE)", () => rebuilt],
  ])("a body still streaming when TRY_TIMEOUT_MS has passed arrives whole: %s", async (_, which) => {
    const response = await exchange(which(), "/_special/stream?delay=900");
    expect(response.status).toBe(200);
    expect(response.error).toBeNull();
    expect(response.body.toString()).toBe("first\nlast\n");
  });
});

describe("limits: refused before any origin is contacted", () => {
  let lb: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["l1", "l2"], {
      MAX_BODY_BYTES: "1048576",
      MAX_URL_BYTES: "2048",
      MAX_HEADER_BYTES: "4096",
    });
  });
  afterAll(() => lb?.close());
  const contacted = () => lb.origins.reduce((n, o) => n + o.seen.length, 0);

  test("413 for a declared body over MAX_BODY_BYTES, with 0 origin requests", async () => {
    const before = contacted();
    const response = await exchange(lb, "/upload", { method: "POST", body: Buffer.alloc(2_000_000) });
    expect(response.status).toBe(413);
    expect(response.body.toString()).toBe("request body too large\n");
    expect(contacted()).toBe(before);
  });

  test("413 for a chunked body that grows past MAX_BODY_BYTES while it streams", async () => {
    const response = await exchange(lb, "/upload", { method: "POST", body: () => chunked(3_000_000) });
    expect([413, 0]).toContain(response.status); // 0: the runtime may cut the upload connection first
    for (const o of lb.origins)
      expect(o.seen.filter((r) => r.url === "/upload" && r.bodyBytes > 1_048_576)).toHaveLength(0);
  });

  test("414 for a URL over MAX_URL_BYTES and 431 for headers over MAX_HEADER_BYTES, with 0 origin requests", async () => {
    const before = contacted();
    expect(await rawRequest(lb.url, `/${"a".repeat(3_000)}`)).toBe(414);
    const big = await exchange(lb, "/", { headers: { "x-big": "b".repeat(5_000) } });
    expect(big.status).toBe(431);
    expect(contacted()).toBe(before);
  });
});

describe("headers", () => {
  let lb: Balancer;
  beforeAll(async () => {
    // Every field FORWARD_HEADERS can add (the default adds only X-Forwarded-For and -Proto).
    lb = await startBalancer(["h1", "h2", "h3"], {
      FORWARD_HEADERS: "x-forwarded-for,x-forwarded-proto,x-forwarded-host,x-real-ip,forwarded,x-lb-successor",
    });
  });
  afterAll(() => lb?.close());
  const lastSeen = (id: string) => originNamed(lb, id).seen.at(-1)!;

  test("the origin gets Forwarded (IPv6 quoted and bracketed), Via and the client address", async () => {
    const ip = "2001:db8:77::5";
    const id = await servedBy(lb, ip);
    const headers = lastSeen(id).headers;
    expect(headers.forwarded).toBe(`for="[${ip}]";proto=http;host="${lb.url.host}"`);
    expect(headers.via).toBe("1.1 edge-affinity-lb");
    expect(headers["x-forwarded-for"]).toBe(ip);
    expect(headers.host).toBe(new URL(originNamed(lb, id).url).host);
    expect(headers["cf-connecting-ip"]).toBeUndefined();
  });

  test("a request that already carries our Via gets 508 and reaches no origin", async () => {
    const before = lb.origins.reduce((n, o) => n + o.seen.length, 0);
    const response = await exchange(lb, "/", { headers: { via: "1.1 something, 1.1 edge-affinity-lb" } });
    expect(response.status).toBe(508);
    expect(lb.origins.reduce((n, o) => n + o.seen.length, 0)).toBe(before);
  });

  test("the origin is told its ring successor, and that is where the client goes when it fails", async () => {
    const ip = "203.0.113.200";
    const primary = await servedBy(lb, ip);
    const hint = lastSeen(primary).headers["x-lb-successor"] as string;
    expect(lb.origins.map((o) => o.id)).toContain(hint);
    expect(hint).not.toBe(primary);
    originNamed(lb, primary).setStatus(503);
    try {
      expect(await servedBy(lb, ip)).toBe(hint);
    } finally {
      originNamed(lb, primary).setStatus(200);
    }
  });

  test("responses: several Set-Cookie survive, gzip stays valid, redirects are returned, HEAD/204/304 have no body", async () => {
    const cookies = await exchange(lb, "/_special/cookies");
    expect(cookies.headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
    expect(cookies.headers.via).toBeUndefined(); // VIA_RESPONSE is off by default: passed through as is

    // Passed through when nothing must change, rebuilt when a hop-by-hop field would reach the client.
    const hop = await exchange(lb, "/_special/hop");
    expect(hop.body.toString()).toBe("hop\n");
    expect(hop.headers["x-end-to-end"]).toBe("kept");
    for (const name of ["x-hop", "proxy-authenticate", "proxy-connection", "keep-alive"])
      expect(hop.headers[name]).toBeUndefined();
    // A 407's Proxy-Authenticate is the origin side's proxy asking: never passed to the client.
    const auth = await exchange(lb, "/_special/proxy-auth");
    expect(auth.status).toBe(407);
    expect(auth.body.toString()).toBe("proxy auth\n");
    expect(auth.headers["proxy-authenticate"]).toBeUndefined();

    const gz = await exchange(lb, "/_special/gzip", { headers: { "accept-encoding": "gzip" } });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    if (gz.headers["content-length"] !== undefined) expect(Number(gz.headers["content-length"])).toBe(gz.body.length);
    expect(gunzipSync(gz.body).toString()).toBe("compressed ".repeat(500));

    const redirect = await exchange(lb, "/_special/redirect");
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe("https://elsewhere.example/next");

    const head = await exchange(lb, "/", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const status of [204, 304]) {
      const r = await exchange(lb, `/_special/${status}`);
      expect(r.status).toBe(status);
      expect(r.body.length).toBe(0);
    }
  });

  test("an origin that resets mid-body: the client sees the cut, and the request is NOT sent again", async () => {
    const response = await exchange(lb, "/_special/reset");
    expect(response.status).toBe(200);
    expect(response.body.length).toBeLessThan(1000);
    const total = lb.origins.reduce((n, o) => n + requestsFor(o, "/_special/reset"), 0);
    expect(total).toBe(1);
  });

  test("debug headers are off by default", async () => {
    const response = await exchange(lb, "/");
    expect(response.headers["x-lb-origin"]).toBeUndefined();
    expect(response.headers["x-lb-attempts"]).toBeUndefined();
  });
});

describe("WebSockets", () => {
  let lb: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["w1", "w2", "w3"], { DEBUG_HEADERS: "true" });
  });
  afterAll(() => lb?.close());

  function talk(ip: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://${lb.url.host}/chat`, { headers: { "cf-connecting-ip": ip } });
      socket.on("open", () => socket.send("hello"));
      socket.on("message", (data) => {
        resolve(String(data));
        socket.close();
      });
      socket.on("error", reject);
      socket.on("unexpected-response", (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    });
  }

  test("an upgrade goes to the client's primary, every time", async () => {
    const ip = "198.51.100.90";
    const primary = await servedBy(lb, ip);
    expect(await talk(ip)).toBe(`${primary}:hello`);
    expect(await talk(ip)).toBe(`${primary}:hello`);
  });

  test("an upgrade to a dead primary is NOT retried on a successor", async () => {
    const ip = "198.51.100.91";
    const primary = await servedBy(lb, ip);
    const others = lb.origins.filter((o) => o.id !== primary);
    const before = others.map((o) => o.upgrades());
    await originNamed(lb, primary).stop();
    await expect(talk(ip)).rejects.toThrow(/status 502/);
    expect(others.map((o) => o.upgrades())).toEqual(before);
  });
});

describe("debug headers", () => {
  let lb: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["d1", "d2", "d3"], { DEBUG_HEADERS: "true" });
  });
  afterAll(() => lb?.close());

  test("debug headers, when switched on, name the origin, the attempts and the epoch", async () => {
    const response = await exchange(lb, "/", { headers: { "cf-connecting-ip": "198.51.100.99" } });
    expect(response.headers["x-lb-origin"]).toMatch(/^d[123]$/);
    expect(response.headers["x-lb-attempts"]).toBe("1");
    expect(Number(response.headers["x-lb-epoch"])).toBeGreaterThanOrEqual(0);
  });
});

describe("retry budget", () => {
  let lb: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["b1", "b2", "b3"], {
      RETRY_BUDGET_PERCENT: "0",
      RETRY_BUDGET_MIN: "2",
      EJECT_AFTER_FAILURES: "1000",
    });
  });
  afterAll(() => lb?.close());

  test("with a floor of 2 and 0 %, only 2 of 10 failing GETs are retried; the rest get the origin's 503", async () => {
    const failing = originNamed(lb, "b1");
    const clients: string[] = [];
    for (let i = 1; clients.length < 10 && i < 2000; i++) {
      const ip = `10.9.${Math.floor(i / 250)}.${i % 250}`;
      if ((await servedBy(lb, ip)) === "b1") clients.push(ip);
    }
    for (const o of lb.origins) o.seen.length = 0;
    failing.setStatus(503);
    const statuses: number[] = [];
    for (const ip of clients) statuses.push((await lb.request("/", ip)).status);
    failing.setStatus(200);
    const retried = lb.origins.filter((o) => o.id !== "b1").reduce((n, o) => n + o.seen.length, 0);
    expect(failing.seen).toHaveLength(10);
    expect(retried).toBe(2);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 503)).toHaveLength(8);
  });
});
