// End to end: the bundle `wrangler deploy --dry-run` built, in workerd, in front of real origins
// on loopback. Figures (stickiness, moves on failure) are printed for the README and the notes.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startOrigin, type DemoOrigin } from "../../scripts/demo-origins.ts";
import { mapLimit, rawRequest, sleep, startBalancer, type Balancer } from "./harness.ts";
import { randomUnit } from "../../scripts/lib/random.ts";

const rand = randomUnit(20261122);
const byte = () => Math.floor(rand() * 256);
const hex16 = () => Math.floor(rand() * 65536).toString(16);

const ipv4Clients = Array.from({ length: 1000 }, () => `${1 + Math.floor(rand() * 223)}.${byte()}.${byte()}.${byte()}`);

/** 300 IPv6 /64s; each has several addresses, and one address in several textual forms. */
const ipv6Clients = Array.from({ length: 300 }, () => {
  const prefix = [0x2001, 0x0db8, Math.floor(rand() * 65536), Math.floor(rand() * 65536)];
  const p = prefix.map((g) => g.toString(16));
  const full = prefix.map((g) => g.toString(16).padStart(4, "0"));
  return [
    `${p.join(":")}::1`,
    `${p.join(":")}:${hex16()}:${hex16()}:${hex16()}:${hex16()}`,
    `${p.join(":")}:0:0:0:1`.toUpperCase(),
    `${full.join(":")}:0000:0000:0000:0001`,
    `${p.join(":")}:0:0:0.0.0.1`,
  ];
});

const CONCURRENCY = 16;

describe("sticky affinity through workerd", () => {
  let lb: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["o1", "o2", "o3", "o4"]);
  });
  afterAll(() => lb?.close());

  test("1,000 IPv4 clients and 300 IPv6 /64s stay on one origin over 3 rounds, in every address form", async () => {
    const flows = [...ipv4Clients.map((ip) => [ip]), ...ipv6Clients];
    const rounds: string[][][] = [];
    for (let round = 0; round < 3; round++) {
      rounds.push(
        await mapLimit(flows, CONCURRENCY, (ips) =>
          Promise.all(ips.map(async (ip) => (await lb.request("/", ip)).origin ?? "none")),
        ),
      );
    }
    let sticky = 0;
    flows.forEach((_, i) => {
      const seen = new Set(rounds.flatMap((r) => r[i]!));
      if (seen.size === 1 && !seen.has("none")) sticky++;
    });
    const load: Record<string, number> = {};
    for (const served of rounds[0]!) load[served[0]!] = (load[served[0]!] ?? 0) + 1;
    const requests = 3 * flows.reduce((n, ips) => n + ips.length, 0);
    console.log(
      `stickiness: ${sticky}/${flows.length} clients on one origin over ${requests} requests; load ${JSON.stringify(load)}`,
    );
    expect(sticky).toBe(flows.length);
    expect(Object.keys(load).sort()).toEqual(["o1", "o2", "o3", "o4"]);
  });
});

describe("an origin dies", () => {
  let lb: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["o1", "o2", "o3", "o4"]);
  });
  afterAll(() => lb?.close());

  test("every GET still gets 200 on the same request; only the dead origin's clients move, spread over the others", async () => {
    const before = await mapLimit(ipv4Clients, CONCURRENCY, async (ip) => (await lb.request("/", ip)).origin!);
    const victim = lb.origins.find((o) => o.id === "o2")!;
    await victim.stop();
    const after = await mapLimit(ipv4Clients, CONCURRENCY, (ip) => lb.request("/", ip));

    expect(after.filter((r) => r.status !== 200)).toEqual([]);
    const moved = new Map<string, number>();
    let collateral = 0;
    ipv4Clients.forEach((_, i) => {
      if (before[i] === "o2") moved.set(after[i]!.origin!, (moved.get(after[i]!.origin!) ?? 0) + 1);
      else if (after[i]!.origin !== before[i]) collateral++;
    });
    const owned = before.filter((o) => o === "o2").length;
    console.log(
      `o2 killed: it owned ${owned}/${ipv4Clients.length} clients; they moved to ${JSON.stringify(Object.fromEntries(moved))}; ` +
        `other clients moved: ${collateral}`,
    );
    expect(owned).toBeGreaterThan(0);
    expect(collateral).toBe(0);
    expect(moved.has("o2")).toBe(false);
    expect(moved.size).toBeGreaterThanOrEqual(2);
  });
});

describe("retries", () => {
  let lb: Balancer;
  let homeOf: (id: string) => Promise<string>;
  const others = (id: string) => lb.origins.filter((o) => o.id !== id);
  const count = (o: DemoOrigin, method: string) => o.seen.filter((r) => r.method === method).length;

  beforeAll(async () => {
    lb = await startBalancer(["r1", "r2", "r3", "r4"], {
      TRY_TIMEOUT_MS: "500",
    });
    homeOf = async (id) => {
      for (const ip of ipv4Clients) if ((await lb.request("/", ip)).origin === id) return ip;
      throw new Error(`no client of ${id}`);
    };
  });
  afterAll(() => lb?.close());

  test("does NOT retry a POST answered 502: that origin receives it exactly once, no other origin at all", async () => {
    const ip = await homeOf("r1");
    const r1 = lb.origins.find((o) => o.id === "r1")!;
    for (const o of lb.origins) o.seen.length = 0;
    r1.setStatus(502);
    const response = await lb.request("/orders", ip, {
      method: "POST",
      body: '{"item":1}',
    });
    r1.setStatus(200);
    expect(response.status).toBe(502);
    expect(count(r1, "POST")).toBe(1);
    expect(others("r1").map((o) => count(o, "POST"))).toEqual([0, 0, 0]);
  });

  test("retries a GET answered 503 on the ring successor, once", async () => {
    const ip = await homeOf("r2");
    const r2 = lb.origins.find((o) => o.id === "r2")!;
    for (const o of lb.origins) o.seen.length = 0;
    r2.setStatus(503);
    const response = await lb.request("/page", ip);
    r2.setStatus(200);
    expect(response.status).toBe(200);
    expect(response.origin).not.toBe("r2");
    expect(count(r2, "GET")).toBe(1);
    expect(others("r2").reduce((n, o) => n + count(o, "GET"), 0)).toBe(1);
  });

  test("a per-try timeout moves a GET to the successor, but a POST gets 504 from one origin only", async () => {
    const ip = await homeOf("r3");
    const r3 = lb.origins.find((o) => o.id === "r3")!;
    for (const o of lb.origins) o.seen.length = 0;
    r3.setDelay(3_000);
    const abandonedBefore = r3.abandoned();
    const get = await lb.request("/slow", ip);
    const post = await lb.request("/slow", ip, { method: "POST", body: "x" });
    // The timed-out attempts' connections are closed (their abort signals fired), long before r3
    // would answer: a hung origin holds none of the six connections a request may have open.
    const closedBy = Date.now() + 1_500;
    while (r3.abandoned() - abandonedBefore < 2 && Date.now() < closedBy) await sleep(20);
    const closed = r3.abandoned() - abandonedBefore;
    r3.setDelay(0);
    expect(closed).toBe(2);
    expect(get.status).toBe(200);
    expect(get.origin).not.toBe("r3");
    expect(post.status).toBe(504);
    expect(post.body).toBe("origin timed out\n");
    expect(count(r3, "POST")).toBe(1);
    expect(others("r3").map((o) => count(o, "POST"))).toEqual([0, 0, 0]);
  });

  test("a retry's timeout does not cut the successor's body still streaming", async () => {
    const ip = await homeOf("r2");
    const r2 = lb.origins.find((o) => o.id === "r2")!;
    for (const o of lb.origins) o.seen.length = 0;
    r2.setDelay(3_000);
    // The successor sends its headers at once and the rest 900 ms later, past TRY_TIMEOUT_MS (500).
    const response = await lb.request("/_special/stream?delay=900", ip);
    r2.setDelay(0);
    expect(response.status).toBe(200);
    expect(response.body).toBe("first\nlast\n");
    expect(r2.seen.length).toBe(1);
    expect(others("r2").reduce((n, o) => n + o.seen.length, 0)).toBe(1);
  });
});

describe("never an open proxy", () => {
  let lb: Balancer;
  let bystander: DemoOrigin;
  beforeAll(async () => {
    bystander = await startOrigin("bystander", { host: "127.0.0.2" });
    lb = await startBalancer(["p1", "p2"]);
  });
  afterAll(async () => {
    await lb?.close();
    await bystander?.stop();
  });

  test("no request target reaches a server outside the pool", async () => {
    const b = `127.0.0.2:${bystander.port}`;
    const targets = [
      `//${b}/x`,
      `///${b}/x`,
      `/\\${b}/x`,
      `/\\\\${b}/x`,
      `/%2F%2F${b}/x`,
      `/%2f%2f${b}/x`,
      `/%5C${b}/x`,
      `/%5c%5c${b}/x`,
      `/..//${b}/x`,
      `/.%2e//${b}/x`,
      `//${b}`,
      `/@${b}/x`,
      `http://${b}/x`,
      `https://${b}/x`,
      `//user@${b}/x`,
    ];
    const statuses = await Promise.all(targets.map((t) => rawRequest(lb.url, t).catch(() => -1)));
    console.log(`open-proxy targets: ${targets.length}; statuses ${JSON.stringify(statuses)}`);
    expect(bystander.seen).toHaveLength(0);
    // The balancer answered every one of them (from the pool), not with an error of its own.
    expect(statuses.every((s) => s === 200)).toBe(true);
    const reached = lb.origins.flatMap((o) => o.seen.map((r) => r.url));
    expect(reached).toHaveLength(targets.length);
  });

  // The request path cuts the path and query from request.url (core/proxy/request-url.ts) instead
  // of parsing it again: this holds only while the runtime normalizes request.url as the URL
  // standard does, which these raw request lines check.
  test("the path and query reach the origin as the URL standard normalizes them; the reserved prefix is matched after", async () => {
    const targets = [
      "/a/../b",
      "/a/./b/",
      "/%2e%2e/x",
      "/a/%2E/b",
      "/\\back\\slash",
      "/%41%zz%",
      "/a;b=c",
      "/caf%C3%A9",
      "/q?a=1?b=2",
      "/q?",
      "/?x=%20#frag",
      "/p#f?not-a-query",
      "/__lb/../after-prefix",
      "/x/__lb/status",
    ];
    const seen = () => lb.origins.flatMap((o) => o.seen.map((r) => r.url));
    for (const target of targets) {
      const before = seen().length;
      expect(await rawRequest(lb.url, target)).toBe(200);
      // Concatenated, not resolved: a request target is never a relative reference ("/\\x" is a path).
      const url = new URL(`http://example.com${target}`);
      expect(seen().slice(before)).toEqual([url.pathname + url.search]);
    }
    // A dot segment that leads into the reserved prefix is answered by the balancer, not proxied.
    const before = seen().length;
    expect(await rawRequest(lb.url, "/x/../__lb/status")).toBe(await rawRequest(lb.url, "/__lb/status"));
    expect(seen()).toHaveLength(before);
  });
});
