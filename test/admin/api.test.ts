// The admin API inside workerd: every status code it answers, and for every refusal that nothing
// changed (origins, epoch, layout, audit log compared before and after).
import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { readBody } from "../../src/admin/body.ts";
import type { Env } from "../../src/worker/env.ts";
import worker from "../../src/worker/index.ts";
import { RING_OBJECT_NAME, type AuditEntry } from "../../src/ring-store/protocol.ts";
import { RingStore } from "../../src/ring-store/ring-store.ts";
import { resetRoutingCache } from "../../src/worker/routing-cache.ts";

type IncomingRequest = Request<unknown, IncomingRequestCfProperties>;

const TOKEN = env.ADMIN_TOKEN!;
const AUTH = { authorization: `Bearer ${TOKEN}` };
const CLIENT_IP = "203.0.113.9";
const stub = () => env.RING.get(env.RING.idFromName(RING_OBJECT_NAME));

interface Init {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: BodyInit | null;
  /** JSON body (sets Content-Type). */
  readonly json?: unknown;
  readonly env?: Partial<Record<string, unknown>>;
}

async function call(path: string, init: Init = {}): Promise<Response> {
  const headers = new Headers({ "cf-connecting-ip": CLIENT_IP, ...init.headers });
  let body = init.body ?? null;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const ctx = createExecutionContext();
  const testEnv = init.env === undefined ? (env as Env) : ({ ...(env as Env), ...init.env } as Env);
  const response = await worker.fetch(
    new Request(`https://lb.example${path}`, { method: init.method ?? "GET", headers, body }) as IncomingRequest,
    testEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

const admin = (path: string, init: Init = {}) => call(path, { ...init, headers: { ...AUTH, ...init.headers } });

interface Listed {
  epoch: number;
  layoutEpoch: number;
  origins: {
    id: string;
    url: string;
    weight: number;
    region: string | null;
    state: string;
    health: string;
    share: number;
  }[];
}
interface Changed {
  epoch: number;
  changed: boolean;
  preview: {
    share: number;
    ipv4Addresses: number;
    ipv6Prefixes: number;
    flows: { from: string; to: string; share: number }[];
  };
}

/** Everything a change could touch: origins, epoch, layout, health, audit log. */
async function everything() {
  const [list, snapshot, audit] = await Promise.all([
    stub().listOrigins(),
    stub().getSnapshot(),
    stub().getAudit(1000),
  ]);
  const layouts = Object.entries(snapshot.layouts).map(([pool, layout]) => [pool, Array.from(layout.owners)]);
  const { regions, defaultRegion } = snapshot;
  return { list, layouts, layoutEpoch: snapshot.layoutEpoch, regions, defaultRegion, audit };
}

/** Runs `refused`, then checks that nothing changed. */
async function refusedWithoutChange(refused: () => Promise<Response>): Promise<Response> {
  const before = await everything();
  const response = await refused();
  expect(await everything()).toEqual(before);
  return response;
}

async function expectRefusal(
  response: Response,
  status: number,
  field?: string,
): Promise<{ error: string; field?: string }> {
  const body = (await response.json()) as { error: string; field?: string };
  expect({ status: response.status, field: body.field }).toEqual({ status, field });
  expect(typeof body.error).toBe("string");
  expect(response.headers.get("cache-control")).toBe("no-store");
  return body;
}

/**
 * Puts the ring object back to its freshly seeded state (storage outlives a test here): empties
 * its tables, seeds them again as a first start would, and drops the live instance's cached snapshot.
 */
async function reseed(): Promise<void> {
  await runInDurableObject(stub(), (instance: RingStore, state) => {
    for (const table of ["origins", "meta", "pool_layouts", "regions", "audit", "sqlite_sequence"]) {
      state.storage.sql.exec(`DELETE FROM ${table}`);
    }
    new RingStore(state, env as Env);
    Object.assign(instance, { cached: null });
  });
}

beforeEach(async () => {
  resetRoutingCache();
  await reseed();
});
afterEach(() => vi.restoreAllMocks());

describe("GET {prefix}/api/origins", () => {
  test("lists every origin with its url, state, health and exact share of the key space; ETag is the epoch", async () => {
    const response = await admin("/__lb/api/origins");
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const list = (await response.json()) as Listed;
    expect(response.headers.get("etag")).toBe(`"${list.epoch}"`);
    expect(list.origins.map((o) => o.id)).toEqual(["alpha", "bravo", "charlie"]);
    expect(list.origins.every((o) => o.url.startsWith("http://127.0.0.1:") && o.state === "active")).toBe(true);
    expect(list.origins.every((o) => o.health === "unknown")).toBe(true);
    // Three equal weights on a 65,537-slot table: 1/3 each to within one slot, summing to exactly 1.
    for (const o of list.origins) expect(Math.abs(o.share - 1 / 3)).toBeLessThan(2 / 65_537);
    expect(list.origins.reduce((sum, o) => sum + o.share, 0)).toBeCloseTo(1, 12);
  });

  test("a wrong method on a known path is 405 with Allow, not 404", async () => {
    const response = await admin("/__lb/api/origins/alpha");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("PATCH, DELETE");
  });
});

describe("authentication", () => {
  const mutations: [string, Init][] = [
    ["/__lb/api/origins", { method: "POST", json: { id: "delta", url: "https://delta.example.com" } }],
    ["/__lb/api/origins/alpha", { method: "PATCH", json: { weight: 2 } }],
    ["/__lb/api/origins/alpha/state", { method: "PUT", json: { state: "disabled" } }],
    ["/__lb/api/origins/alpha", { method: "DELETE" }],
  ];

  test.each(mutations)(
    "%s without a token is 401 with WWW-Authenticate: Bearer, and changes nothing",
    async (path, init) => {
      const response = await refusedWithoutChange(() => call(path, init));
      await expectRefusal(response, 401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
    },
  );

  test.each([
    ["a wrong token of the same length", "x".repeat(TOKEN.length)],
    ["the token with its last character changed", TOKEN.slice(0, -1) + (TOKEN.endsWith("f") ? "e" : "f")],
    ["a prefix of the token", TOKEN.slice(0, 16)],
    ["the token with a suffix", TOKEN + "0"],
  ])("%s is refused (401 invalid_token) and changes nothing", async (_, wrong) => {
    for (const [path, init] of mutations) {
      const response = await refusedWithoutChange(() =>
        call(path, { ...init, headers: { authorization: `Bearer ${wrong}` } }),
      );
      await expectRefusal(response, 401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
    expect((await call("/__lb/api/origins", { headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401);
  });

  test("another scheme (Basic) or a malformed Authorization is refused", async () => {
    for (const authorization of [`Basic ${btoa(`admin:${TOKEN}`)}`, "Bearer", `Bearer ${TOKEN} extra`, TOKEN]) {
      expect((await call("/__lb/api/origins", { headers: { authorization } })).status, authorization).toBe(401);
    }
  });

  test("the token is compared by hashing both sides and comparing the SHA-256 digests with timingSafeEqual", async () => {
    const compare = vi.spyOn(crypto.subtle, "timingSafeEqual");
    expect((await call("/__lb/api/origins", { headers: { authorization: `Bearer ${"y".repeat(40)}` } })).status).toBe(
      401,
    );
    expect(compare).toHaveBeenCalledTimes(1);
    const [a, b] = compare.mock.calls[0]!;
    expect([(a as ArrayBuffer).byteLength, (b as ArrayBuffer).byteLength]).toEqual([32, 32]);
    expect((await admin("/__lb/api/origins")).status).toBe(200);
    expect(compare).toHaveBeenCalledTimes(2);
  });

  test("the scheme is case-insensitive (RFC 9110 §11.1)", async () => {
    expect((await call("/__lb/api/origins", { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
  });

  test.each([
    ["unset", undefined],
    ["empty", ""],
    ["shorter than 16 characters", "short-token"],
    ["predictable (one letter repeated)", "aaaaaaaaaaaaaaaa"],
    ["predictable (two letters)", "abababababababababababab"],
    ["with a space (no bearer header can carry it)", "test admin token 0123456789abcdef"],
    ["with a tab", "test\tadmin-token-0123456789abcdef"],
  ])("with ADMIN_TOKEN %s the admin API is closed: every call is 403 and changes nothing", async (_, secret) => {
    const closed = { ADMIN_TOKEN: secret };
    for (const [path, init] of mutations) {
      const response = await refusedWithoutChange(() =>
        call(path, { ...init, env: closed, headers: { authorization: `Bearer ${secret ?? TOKEN}` } }),
      );
      const body = await expectRefusal(response, 403);
      expect(body.error).toMatch(/admin API is closed/);
    }
    for (const path of ["/__lb/api/origins", "/__lb/api/audit", "/__lb/status"]) {
      expect((await call(path, { env: closed, headers: AUTH })).status, path).toBe(403);
    }
    const page = await call("/__lb/", { env: closed });
    expect(page.status).toBe(403);
    expect(await page.text()).toMatch(/closed/);
    // STATUS_PUBLIC opens the read-only status, and nothing else.
    const open = { ...closed, STATUS_PUBLIC: "true" };
    expect((await call("/__lb/status", { env: open })).status).toBe(200);
    expect((await call("/__lb/api/origins", { env: open })).status).toBe(403);
  });

  test("the status needs the token unless STATUS_PUBLIC; the origin list always does", async () => {
    expect((await call("/__lb/status")).status).toBe(401);
    expect((await admin("/__lb/status")).status).toBe(200);
    const publicStatus = { STATUS_PUBLIC: "true" };
    expect((await call("/__lb/status", { env: publicStatus })).status).toBe(200);
    expect((await call("/__lb/api/origins", { env: publicStatus })).status).toBe(401);
    expect((await call("/__lb/api/audit", { env: publicStatus })).status).toBe(401);
  });
});

describe("the login cookie (status page)", () => {
  async function login(token: string): Promise<Response> {
    return call("/__lb/login", { method: "POST", body: new URLSearchParams({ token }) });
  }
  const cookieOf = (response: Response) => response.headers.get("set-cookie")!.split(";", 1)[0]!;

  test("an unauthenticated GET {prefix}/ is 401 with a self-contained login form", async () => {
    const response = await call("/__lb/");
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const html = await response.text();
    expect(html).toContain('<form method="post" action="/__lb/login">');
    expect(html).toContain('name="token"');
    expect(html).not.toMatch(/(src|href)=/);
  });

  test("a wrong token at login is 401 and sets no cookie", async () => {
    const response = await login("z".repeat(TOKEN.length));
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await response.text()).toContain("refused");
  });

  test("login sets an HttpOnly, Secure, SameSite=Strict cookie on the prefix that is not the token, then 303 to the page", async () => {
    const response = await login(TOKEN);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/__lb/");
    const cookie = response.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^lb_admin=/);
    for (const attribute of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/__lb"])
      expect(cookie).toContain(attribute);
    expect(cookie).not.toContain(TOKEN);
  });

  test("the cookie works for GET routes but NOT for mutations (CSRF), which change nothing", async () => {
    const cookie = cookieOf(await login(TOKEN));
    for (const path of ["/__lb/", "/__lb/status", "/__lb/api/origins", "/__lb/api/audit"]) {
      expect((await call(path, { headers: { cookie } })).status, path).toBe(200);
    }
    const attempts: [string, Init][] = [
      ["/__lb/api/origins", { method: "POST", json: { id: "delta", url: "https://delta.example.com" } }],
      ["/__lb/api/origins/alpha/state", { method: "PUT", json: { state: "disabled" } }],
      ["/__lb/api/origins/alpha", { method: "DELETE" }],
    ];
    for (const [path, init] of attempts) {
      const response = await refusedWithoutChange(() => call(path, { ...init, headers: { cookie } }));
      await expectRefusal(response, 401);
    }
  });

  test("a tampered or expired cookie is refused", async () => {
    const cookie = cookieOf(await login(TOKEN));
    const [name, value] = cookie.split("=") as [string, string];
    const [expires, sid, mac] = value.split(".") as [string, string, string];
    const tampered = `${name}=${Number(expires) + 1}.${sid}.${mac}`;
    expect((await call("/__lb/api/origins", { headers: { cookie: tampered } })).status).toBe(401);
    const old = `${name}=${Math.floor(Date.now() / 1000) - 10}.${sid}.${mac}`;
    expect((await call("/__lb/api/origins", { headers: { cookie: old } })).status).toBe(401);
    const otherSid = `${name}=${expires}.${"0".repeat(32)}.${mac}`;
    expect((await call("/__lb/api/origins", { headers: { cookie: otherSid } })).status).toBe(401);
  });

  test("a cookie stops working when ADMIN_TOKEN changes; logout clears it", async () => {
    const cookie = cookieOf(await login(TOKEN));
    const rotated = { ADMIN_TOKEN: "another-admin-token-456789abcdef" };
    expect((await call("/__lb/api/origins", { env: rotated, headers: { cookie } })).status).toBe(401);
    const out = await call("/__lb/logout", { method: "POST", headers: { cookie } });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^lb_admin=;.*Max-Age=0/);
  });

  test("logout revokes the session: the old cookie no longer works, even if a copy is kept", async () => {
    const cookie = cookieOf(await login(TOKEN));
    const other = cookieOf(await login(TOKEN));
    expect((await call("/__lb/api/origins", { headers: { cookie } })).status).toBe(200);
    expect((await call("/__lb/logout", { method: "POST", headers: { cookie } })).status).toBe(303);
    expect((await call("/__lb/api/origins", { headers: { cookie } })).status).toBe(401);
    expect((await call("/__lb/", { headers: { cookie } })).status).toBe(401);
    // Another session of the same token goes on.
    expect((await call("/__lb/api/origins", { headers: { cookie: other } })).status).toBe(200);
  });

  test("logout needs the session it ends (or the token): without one it is 401 and revokes nothing", async () => {
    const cookie = cookieOf(await login(TOKEN));
    const anonymous = await call("/__lb/logout", { method: "POST" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("set-cookie")).toBeNull();
    expect((await call("/__lb/logout", { method: "POST", headers: { cookie: "lb_admin=1.2.3" } })).status).toBe(401);
    expect((await call("/__lb/api/origins", { headers: { cookie } })).status).toBe(200);
    // With the token alone it clears the cookie, but ends no session it was not shown.
    const byToken = await call("/__lb/logout", { method: "POST", headers: AUTH });
    expect(byToken.status).toBe(303);
    expect(byToken.headers.get("set-cookie")).toMatch(/^lb_admin=;.*Max-Age=0/);
    expect((await call("/__lb/api/origins", { headers: { cookie } })).status).toBe(200);
  });

  test("a planted cookie of the same name (an origin's Set-Cookie with Path=/__lb) does not lock the operator out", async () => {
    const cookie = cookieOf(await login(TOKEN));
    const planted = `lb_admin=bad; ${cookie}`;
    expect((await call("/__lb/api/origins", { headers: { cookie: planted } })).status).toBe(200);
    expect((await call("/__lb/", { headers: { cookie: `${cookie}; lb_admin=bad` } })).status).toBe(200);
  });
});

describe("changes", () => {
  test("add: 201 with epoch, changed and preview; Location and ETag; the origin is listed and audited", async () => {
    const before = (await (await admin("/__lb/api/origins")).json()) as Listed;
    const response = await admin("/__lb/api/origins", {
      method: "POST",
      json: { id: "delta", url: "https://delta.example.com", weight: 2, region: "eu" },
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Changed;
    expect(body.epoch).toBe(before.epoch + 1);
    expect(body.changed).toBe(true);
    expect(response.headers.get("etag")).toBe(`"${body.epoch}"`);
    expect(response.headers.get("location")).toBe("/__lb/api/origins/delta");
    // Weight 2 of 5: delta takes 2/5 of the key space, all of it from the three others.
    expect(body.preview.share).toBeCloseTo(0.4, 3);
    expect(body.preview.ipv4Addresses).toBe(Math.round(body.preview.share * 2 ** 32));
    expect(body.preview.flows.every((f) => f.to === "delta")).toBe(true);
    expect(body.preview.flows.map((f) => f.from).sort()).toEqual(["alpha", "bravo", "charlie"]);

    const after = (await (await admin("/__lb/api/origins")).json()) as Listed;
    expect(after.epoch).toBe(body.epoch);
    expect(after.origins.find((o) => o.id === "delta")).toMatchObject({
      url: "https://delta.example.com",
      weight: 2,
      region: "eu",
      state: "active",
    });
    // It joins the ring only once it passes HEALTH_RISE probes (issue 14): until then no slot, no client.
    const delta = after.origins.find((o) => o.id === "delta")!;
    expect(delta.share).toBe(0);
    expect(delta.health).toBe("down");
    expect((body as unknown as { note: string }).note).toMatch(/HEALTH_RISE \(2\) probes/);
  });

  test("update, set state and remove answer 200 with the new epoch; a no-op is 200 with changed false and the same epoch", async () => {
    let epoch = (await stub().getSnapshot()).epoch;
    const steps: [string, Init][] = [
      ["/__lb/api/origins/alpha", { method: "PATCH", json: { weight: 3, region: "us" } }],
      ["/__lb/api/origins/bravo/state", { method: "PUT", json: { state: "draining" } }],
      ["/__lb/api/origins/charlie", { method: "DELETE" }],
    ];
    for (const [path, init] of steps) {
      const response = await admin(path, init);
      expect(response.status, path).toBe(200);
      const body = (await response.json()) as Changed;
      expect(body).toMatchObject({ epoch: epoch + 1, changed: true });
      epoch = body.epoch;
    }
    const again = await admin("/__lb/api/origins/bravo/state", { method: "PUT", json: { state: "draining" } });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ epoch, changed: false, preview: { share: 0, flows: [] } });
    const snapshot = await stub().getSnapshot();
    expect(snapshot.origins.map((o) => [o.id, o.weight, o.region, o.state])).toEqual([
      ["alpha", 3, "us", "active"],
      ["bravo", 1, null, "draining"],
    ]);
  });

  test("400 names the field, and the call changes nothing", async () => {
    const cases: [string, Init, string][] = [
      [
        "/__lb/api/origins",
        { method: "POST", body: "{not json", headers: { "content-type": "application/json" } },
        "body",
      ],
      ["/__lb/api/origins", { method: "POST", json: [1, 2] }, "body"],
      ["/__lb/api/origins", { method: "POST", json: { id: "delta" } }, "url"],
      ["/__lb/api/origins", { method: "POST", json: { url: "https://delta.example.com" } }, "id"],
      ["/__lb/api/origins", { method: "POST", json: { id: "bad id", url: "https://delta.example.com" } }, "id"],
      [
        "/__lb/api/origins",
        { method: "POST", json: { id: "delta", url: "https://d.example.com", weight: 0 } },
        "weight",
      ],
      [
        "/__lb/api/origins",
        { method: "POST", json: { id: "delta", url: "https://d.example.com", weight: "2" } },
        "weight",
      ],
      [
        "/__lb/api/origins",
        { method: "POST", json: { id: "delta", url: "https://d.example.com", region: "EU" } },
        "region",
      ],
      [
        "/__lb/api/origins",
        { method: "POST", json: { id: "delta", url: "https://d.example.com", state: "on" } },
        "state",
      ],
      [
        "/__lb/api/origins",
        { method: "POST", json: { id: "delta", url: "https://d.example.com", colour: 1 } },
        "colour",
      ],
      ["/__lb/api/origins", { method: "POST", json: { id: "delta", url: "https://d.example.com?x=1" } }, "url"],
      ["/__lb/api/origins/alpha", { method: "PATCH", json: {} }, "body"],
      ["/__lb/api/origins/alpha", { method: "PATCH", json: { id: "alpha2" } }, "id"],
      ["/__lb/api/origins/alpha", { method: "PATCH", json: { weight: 101 } }, "weight"],
      ["/__lb/api/origins/alpha", { method: "PATCH", json: { state: "disabled" } }, "state"],
      ["/__lb/api/origins/alpha/state", { method: "PUT", json: { state: "sleeping" } }, "state"],
      ["/__lb/api/origins/alpha/state", { method: "PUT", json: "draining" }, "body"],
      [
        "/__lb/api/origins/alpha/state",
        { method: "PUT", json: { state: "disabled" }, headers: { "if-match": 'W/"1"' } },
        "If-Match",
      ],
      ["/__lb/api/origins/alpha", { method: "DELETE", headers: { "if-match": "one" } }, "If-Match"],
      ["/__lb/api/origins/alpha", { method: "DELETE", headers: { "if-match": '"1", "2"' } }, "If-Match"],
      ["/__lb/api/origins/alpha?dry_run=maybe", { method: "DELETE" }, "dry_run"],
    ];
    for (const [path, init, field] of cases) {
      const response = await refusedWithoutChange(() => admin(path, init));
      const body = await expectRefusal(response, 400, field);
      expect(body.error, `${path} ${JSON.stringify(init)}`).toContain(field);
    }
  });

  test("404 for an unknown id, and the call changes nothing", async () => {
    const cases: [string, Init][] = [
      ["/__lb/api/origins/zulu", { method: "PATCH", json: { weight: 2 } }],
      ["/__lb/api/origins/zulu/state", { method: "PUT", json: { state: "disabled" } }],
      ["/__lb/api/origins/zulu", { method: "DELETE" }],
      ["/__lb/api/origins/zulu?dry_run=1", { method: "DELETE" }],
    ];
    for (const [path, init] of cases) {
      await expectRefusal(await refusedWithoutChange(() => admin(path, init)), 404, "id");
    }
  });

  test("409 for a duplicate id, and the call changes nothing", async () => {
    const response = await refusedWithoutChange(() =>
      admin("/__lb/api/origins", { method: "POST", json: { id: "bravo", url: "https://bravo.example.com" } }),
    );
    const body = await expectRefusal(response, 409, "id");
    expect(body.error).toContain("bravo");
  });

  test("If-Match: a stale epoch is 409 and changes nothing; the current one, bare or quoted as in ETag, is applied", async () => {
    const { epoch } = await stub().getSnapshot();
    for (const stale of [String(epoch - 1), `"${epoch + 1}"`, "0"]) {
      const response = await refusedWithoutChange(() =>
        admin("/__lb/api/origins/alpha/state", {
          method: "PUT",
          json: { state: "disabled" },
          headers: { "if-match": stale },
        }),
      );
      await expectRefusal(response, 409, "If-Match");
    }
    const first = await admin("/__lb/api/origins/alpha/state", {
      method: "PUT",
      json: { state: "disabled" },
      headers: { "if-match": `"${epoch}"` },
    });
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag")!;
    expect(etag).toBe(`"${epoch + 1}"`);
    // The ETag of one answer is the If-Match of the next change: compare-and-set in a loop.
    const second = await admin("/__lb/api/origins/alpha/state", {
      method: "PUT",
      json: { state: "active" },
      headers: { "if-match": etag },
    });
    expect(second.status).toBe(200);
    const bare = await admin("/__lb/api/origins/bravo", {
      method: "DELETE",
      headers: { "if-match": String(epoch + 2) },
    });
    expect(bare.status).toBe(200);
  });

  test("413 for a body above ADMIN_MAX_BODY_BYTES, by Content-Length or by the bytes of a chunked body; nothing changes", async () => {
    const small = { ADMIN_MAX_BODY_BYTES: "256" };
    const big = JSON.stringify({ id: "delta", url: "https://delta.example.com", region: "r".repeat(300) });
    // A Content-Length above the limit is refused before a byte is read: this body fails if read.
    let pulled = 0;
    const unread = new ReadableStream<Uint8Array>(
      {
        pull() {
          pulled++;
          throw new Error("the body was read");
        },
      },
      { highWaterMark: 0 },
    );
    const declared = await refusedWithoutChange(() =>
      admin("/__lb/api/origins", {
        method: "POST",
        env: small,
        body: unread,
        headers: { "content-type": "application/json", "content-length": "257" },
      }),
    );
    await expectRefusal(declared, 413, "body");
    expect(pulled).toBe(0);
    // No Content-Length: the body is counted as it arrives and cut at the limit.
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          const bytes = new TextEncoder().encode(big);
          controller.enqueue(bytes.slice(0, 200));
          controller.enqueue(bytes.slice(200));
          controller.close();
        },
      });
    const chunked = await refusedWithoutChange(() =>
      admin("/__lb/api/origins", {
        method: "POST",
        env: small,
        body: stream(),
        headers: { "content-type": "application/json" },
      }),
    );
    await expectRefusal(chunked, 413, "body");
    // The same limit lets a normal body through.
    const fits = await admin("/__lb/api/origins", {
      method: "POST",
      env: small,
      json: { id: "delta", url: "https://delta.example.com" },
    });
    expect(fits.status).toBe(201);
  });

  test("415 for a body route without a JSON content type, and nothing changes", async () => {
    const cases: Init[] = [
      {
        method: "POST",
        body: JSON.stringify({ id: "delta", url: "https://d.example.com" }),
        headers: { "content-type": "text/plain" },
      },
      { method: "POST", body: new TextEncoder().encode(JSON.stringify({ id: "delta", url: "https://d.example.com" })) },
      { method: "POST", body: new URLSearchParams({ id: "delta", url: "https://d.example.com" }) },
    ];
    for (const init of cases) {
      const response = await refusedWithoutChange(() => admin("/__lb/api/origins", init));
      await expectRefusal(response, 415, "Content-Type");
    }
    const merge = await admin("/__lb/api/origins/alpha", {
      method: "PATCH",
      body: JSON.stringify({ weight: 2 }),
      headers: { "content-type": "application/merge-patch+json; charset=utf-8" },
    });
    expect(merge.status).toBe(200);
  });

  test("the actor in the audit log is the token's fingerprint and the client address, never the token", async () => {
    await admin("/__lb/api/origins/alpha/state", { method: "PUT", json: { state: "draining" } });
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(TOKEN)));
    const fingerprint = Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    const [entry] = (await stub().getAudit(1)) as unknown as AuditEntry[];
    expect(entry!.actor).toBe(`token:${fingerprint} ip:${CLIENT_IP}`);
    const text = await (await admin("/__lb/api/audit")).text();
    expect(text).not.toContain(TOKEN);
  });

  test("after a change this isolate routes on the new epoch at once, not one TTL later", async () => {
    const slow = { SNAPSHOT_TTL_MS: "600000" };
    const statusEpoch = async () =>
      ((await (await admin("/__lb/status", { env: slow })).json()) as { epoch: number }).epoch;
    const before = await statusEpoch();
    const response = await admin("/__lb/api/origins/alpha/state", {
      method: "PUT",
      json: { state: "disabled" },
      env: slow,
    });
    const { epoch } = (await response.json()) as Changed;
    expect(epoch).toBe(before + 1);
    expect(await statusEpoch()).toBe(epoch);
  });
});

describe("dry run", () => {
  const changes: [string, string, Init][] = [
    ["add", "/__lb/api/origins", { method: "POST", json: { id: "delta", url: "https://delta.example.com" } }],
    ["weight change", "/__lb/api/origins/alpha", { method: "PATCH", json: { weight: 4 } }],
    ["drain", "/__lb/api/origins/bravo/state", { method: "PUT", json: { state: "draining" } }],
    ["disable", "/__lb/api/origins/bravo/state", { method: "PUT", json: { state: "disabled" } }],
    ["remove", "/__lb/api/origins/charlie", { method: "DELETE" }],
  ];

  test.each(changes)(
    "%s: ?dry_run=1 changes nothing and returns the preview the real call returns",
    async (_, path, init) => {
      const dry = await refusedWithoutChange(() => admin(`${path}?dry_run=1`, init));
      expect(dry.status).toBe(200);
      const { epoch } = await stub().getSnapshot();
      const preview = (await dry.json()) as { dryRun: boolean; epoch: number; preview: Changed["preview"] };
      expect(preview.dryRun).toBe(true);
      expect(preview.epoch).toBe(epoch);
      expect(preview.preview.share).toBeGreaterThan(0.2);
      const real = await admin(path, init);
      expect(real.status).toBeLessThan(300);
      expect(((await real.json()) as Changed).preview).toEqual(preview.preview);
    },
  );

  test("a dry run is checked like the real call: a stale If-Match is 409", async () => {
    const { epoch } = await stub().getSnapshot();
    const response = await refusedWithoutChange(() =>
      admin("/__lb/api/origins/charlie?dry_run=1", { method: "DELETE", headers: { "if-match": String(epoch + 5) } }),
    );
    await expectRefusal(response, 409, "If-Match");
  });
});

describe("audit log", () => {
  test("records each change with the epoch it produced, newest first, paged by seq", async () => {
    const epochs: number[] = [];
    const steps: [string, Init][] = [
      ["/__lb/api/origins", { method: "POST", json: { id: "delta", url: "https://delta.example.com" } }],
      ["/__lb/api/origins/delta", { method: "PATCH", json: { weight: 2 } }],
      ["/__lb/api/origins/delta/state", { method: "PUT", json: { state: "draining" } }],
      ["/__lb/api/origins/delta", { method: "DELETE" }],
    ];
    for (const [path, init] of steps) epochs.push(((await (await admin(path, init)).json()) as Changed).epoch);
    // Dry runs and refusals are not changes: not audited.
    await admin("/__lb/api/origins/alpha?dry_run=1", { method: "DELETE" });
    await admin("/__lb/api/origins/zulu", { method: "DELETE" });

    const response = await admin("/__lb/api/audit?limit=4");
    expect(response.status).toBe(200);
    const { entries, next } = (await response.json()) as {
      entries: { seq: number; at: number; epoch: number; action: string; detail: { id?: string; moved: number } }[];
      next: number | null;
    };
    expect(entries.map((e) => [e.action, e.epoch])).toEqual([
      ["remove", epochs[3]],
      ["set-state", epochs[2]],
      ["update", epochs[1]],
      ["add", epochs[0]],
    ]);
    expect(entries[0]!.detail).toMatchObject({ id: "delta" });
    expect(entries.every((e) => typeof e.detail.moved === "number" && e.at > 0)).toBe(true);
    expect(next).toBe(entries[3]!.seq);
    const older = (await (await admin(`/__lb/api/audit?before=${next}`)).json()) as { entries: { action: string }[] };
    expect(older.entries.map((e) => e.action)).toEqual(["bootstrap"]);
  });

  test.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=x", "limit"],
    ["before=-1", "before"],
    ["before=", "before"],
  ])("?%s is 400 naming %s", async (query, field) => {
    await expectRefusal(await admin(`/__lb/api/audit?${query}`), 400, field);
  });
});

describe("origin URL rules", () => {
  const add = (url: string, extra: Init = {}) =>
    admin("/__lb/api/origins", { method: "POST", json: { id: "delta", url }, ...extra });

  test.each([
    ["http (not https)", "http://delta.example.com"],
    ["a user name", "https://user@delta.example.com"],
    ["a user name and password", "https://user:pw@delta.example.com"],
    ["an IPv4 literal", "https://192.0.2.10"],
    ["an IPv4 literal in decimal (WHATWG reads it as 127.0.0.1)", "https://2130706433"],
    ["the same over http", "http://2130706433"],
    ["an IPv4 literal in hex", "https://0x7f.1"],
    ["an IPv6 literal", "https://[2001:db8::1]"],
    ["loopback", "https://[::1]:8443"],
    ["localhost", "https://localhost"],
    ["a localhost subdomain", "https://api.localhost"],
    ["an mDNS name", "https://printer.local"],
    ["an .internal name", "https://db.corp.internal"],
    ["a .home.arpa name", "https://nas.home.arpa"],
    ["a single-label name", "https://intranet-host"],
    ["a port not allowed", "https://delta.example.com:8080"],
  ])("%s is refused (400, field url) and changes nothing", async (_, url) => {
    const response = await refusedWithoutChange(() => add(url));
    await expectRefusal(response, 400, "url");
  });

  test.each([
    ["https on its default port", "https://delta.example.com"],
    ["an allowed port", "https://delta.example.com:8443"],
    ["a base path", "https://delta.example.com/app"],
  ])("%s is accepted", async (_, url) => {
    expect((await add(url)).status).toBe(201);
  });

  test("ADMIN_ALLOWED_PORTS sets the ports", async () => {
    expect((await add("https://delta.example.com:8080", { env: { ADMIN_ALLOWED_PORTS: "8080" } })).status).toBe(201);
  });

  test.each([
    "http://127.0.0.1:9999",
    "http://2130706433:9999",
    "http://localhost:1234",
    "http://[::1]:8080",
    "https://printer.local",
  ])("ADMIN_ALLOW_LOCAL_ORIGINS=true accepts %s", async (url) => {
    expect((await add(url, { env: { ADMIN_ALLOW_LOCAL_ORIGINS: "true" } })).status).toBe(201);
  });

  test("ADMIN_ALLOW_LOCAL_ORIGINS=true still refuses a user name (and the same rules apply to PATCH)", async () => {
    const local = { ADMIN_ALLOW_LOCAL_ORIGINS: "true" };
    await expectRefusal(await refusedWithoutChange(() => add("http://user@127.0.0.1:9", { env: local })), 400, "url");
    const patch = (url: string, extra: Init = {}) =>
      admin("/__lb/api/origins/alpha", { method: "PATCH", json: { url }, ...extra });
    await expectRefusal(await refusedWithoutChange(() => patch("http://127.0.0.1:9")), 400, "url");
    expect((await patch("http://127.0.0.1:9", { env: local })).status).toBe(200);
  });
});

describe("readBody", () => {
  test("counts a body without Content-Length as it arrives and cancels it past the limit", async () => {
    let cancelled = false;
    let chunks = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        chunks++;
        controller.enqueue(new Uint8Array(100));
      },
      cancel() {
        cancelled = true;
      },
    });
    const request = new Request("https://lb.example/x", { method: "POST", body });
    expect(request.headers.get("content-length")).toBeNull();
    expect(await readBody(request, 250)).toMatchObject({ ok: false, status: 413, field: "body" });
    expect(cancelled).toBe(true);
    expect(chunks).toBeLessThan(10);
  });

  test("a malformed Content-Length is 400, a body at the limit is read whole", async () => {
    const bad = new Request("https://lb.example/x", {
      method: "POST",
      body: "{}",
      headers: { "content-length": "1e3" },
    });
    expect(await readBody(bad, 250)).toMatchObject({ ok: false, status: 400, field: "Content-Length" });
    const fits = await readBody(new Request("https://lb.example/x", { method: "POST", body: "x".repeat(250) }), 250);
    expect(fits.ok && fits.bytes.byteLength).toBe(250);
  });
});

describe("regions: GET and PUT {prefix}/api/regions", () => {
  const EU = { id: "eu", latitude: 50.11, longitude: 8.68, countries: ["DE"], continents: ["EU"] };
  const US = { id: "us", latitude: 39.04, longitude: -77.49, continents: ["NA"] };
  const put = (json: unknown, headers: Record<string, string> = {}, query = "") =>
    admin(`/__lb/api/regions${query}`, { method: "PUT", json, headers });

  test("none by default; PUT replaces the set, and origins with a declared region form its pool", async () => {
    const empty = (await (await admin("/__lb/api/regions")).json()) as { regions: unknown[]; catchAll: string[] };
    expect(empty.regions).toEqual([]);
    expect(empty.catchAll).toEqual(["alpha", "bravo", "charlie"]);

    const response = await put({ regions: [US, EU], defaultRegion: "eu" });
    expect(response.status).toBe(200);
    const changed = (await response.json()) as Changed;
    expect(changed.changed).toBe(true);
    // No origin names a region yet: nobody moves.
    expect(changed.preview.share).toBe(0);
    const patched = (await (
      await admin("/__lb/api/origins/alpha", { method: "PATCH", json: { region: "eu" } })
    ).json()) as Changed & { preview: { pools?: { pool: string; share: number }[] } };
    // alpha leaves the catch-all pool for eu: all of eu's clients are new to it (from nothing), and
    // the catch-all pool's clients that alpha held move to bravo and charlie.
    expect(patched.preview.pools?.map((p) => p.pool)).toEqual(["", "eu"]);
    expect(patched.preview.pools?.find((p) => p.pool === "eu")?.share).toBe(1);

    const listed = (await (await admin("/__lb/api/regions")).json()) as {
      epoch: number;
      defaultRegion: string;
      regions: { id: string; origins: string[]; countries: string[] }[];
      catchAll: string[];
    };
    expect(listed.defaultRegion).toBe("eu");
    // Sorted by id, with the defaults filled in.
    expect(listed.regions).toEqual([
      { ...EU, origins: ["alpha"] },
      { ...US, countries: [], origins: [] },
    ]);
    expect(listed.catchAll).toEqual(["bravo", "charlie"]);
    const snapshot = await stub().getSnapshot();
    expect(Object.keys(snapshot.layouts).sort()).toEqual(["", "eu"]);
    expect(snapshot.layouts.eu!.ids).toEqual(["alpha"]);
    const audit = (await stub().getAudit(10)) as unknown as AuditEntry[];
    expect(audit.map((entry) => entry.action)).toEqual(["update", "set-regions", "bootstrap"]);

    // The same set again is a no-op: same epoch, nothing audited.
    const again = (await (await put({ regions: [EU, US], defaultRegion: "eu" })).json()) as Changed;
    expect({ changed: again.changed, epoch: again.epoch }).toEqual({ changed: false, epoch: listed.epoch });
  });

  test("removing a region puts its origins back in the catch-all pool; dry run first, same preview", async () => {
    await put({ regions: [EU], defaultRegion: null });
    await admin("/__lb/api/origins/alpha", { method: "PATCH", json: { region: "eu" } });
    const before = await everything();
    const dry = (await (await put({ regions: [] }, {}, "?dry_run=1")).json()) as Changed;
    expect(await everything()).toEqual(before);
    const real = (await (await put({ regions: [] })).json()) as Changed;
    expect(real.preview).toEqual(dry.preview);
    const snapshot = await stub().getSnapshot();
    expect(Object.keys(snapshot.layouts)).toEqual([""]);
    expect(snapshot.layouts[""]!.ids).toEqual(["alpha", "bravo", "charlie"]);
    expect(snapshot.regions).toEqual([]);
  });

  test.each([
    [{ regions: [{ ...EU, latitude: 91 }] }, "regions[0].latitude"],
    [{ regions: [EU, { ...US, id: "eu" }] }, "regions[1].id"],
    [{ regions: [EU, { ...US, continents: ["EU"] }] }, "regions[1]"],
    [{ regions: [{ ...EU, id: "EU" }] }, "regions[0].id"],
    [{ regions: [{ ...EU, countries: ["de"] }] }, "regions[0].countries"],
    [{ regions: [EU], defaultRegion: "us" }, "defaultRegion"],
    [{ regions: EU }, "regions"],
    [{ regions: [EU], extra: 1 }, "extra"],
    [[EU], "body"],
  ])("400 names the field (%j → %s), and the call changes nothing", async (json, field) => {
    await expectRefusal(await refusedWithoutChange(() => put(json)), 400, field);
  });

  test("a stale If-Match is 409 and changes nothing; the token is required", async () => {
    const { epoch } = await stub().getSnapshot();
    await expectRefusal(
      await refusedWithoutChange(() => put({ regions: [EU] }, { "if-match": `"${epoch - 1}"` })),
      409,
      "If-Match",
    );
    const anonymous = await refusedWithoutChange(() =>
      call("/__lb/api/regions", { method: "PUT", json: { regions: [EU] } }),
    );
    expect(anonymous.status).toBe(401);
    expect((await put({ regions: [EU] }, { "if-match": `"${epoch}"` })).status).toBe(200);
  });
});
