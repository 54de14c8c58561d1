import { describe, expect, test } from "vitest";
import { checkAdminUrl, type AdminUrlRules } from "../../../src/core/admin/url-rules.ts";
import {
  parseAddBody,
  parseStateBody,
  parseUpdateBody,
  previewChange,
  type Preview,
  type PreviewSide,
} from "../../../src/core/admin/admin.ts";
import { clientKey } from "../../../src/core/key/client-key.ts";
import { parseSettings } from "../../../src/core/config/settings.ts";
import { type FieldError, type Result } from "../../../src/core/result.ts";
import { xxh32 } from "../../../src/core/hash.ts";
import { buildRoutingTable } from "../../../src/core/routing/routing-table.ts";
import { pickOrigins } from "../../../src/core/routing/pick-origins.ts";
import { routingView, type RoutingPolicy } from "../../../src/core/routing/routing-view.ts";
import { UNKNOWN_HEALTH, type OriginRecord } from "../../../src/core/model.ts";
import { freshLayout } from "../../../src/core/ring/slot-layout.ts";
import { updateLayout } from "../../../src/core/ring/layout-update.ts";

const STRICT: AdminUrlRules = { allowLocal: false, allowedPorts: [443, 8443] };
const LOCAL: AdminUrlRules = { allowLocal: true, allowedPorts: [443, 8443] };

const fieldsOf = (result: Result<unknown>) => (result.ok ? [] : result.errors.map((e: FieldError) => e.field));

describe("checkAdminUrl", () => {
  test.each([
    ["https://origin.example.com", null],
    ["https://origin.example.com/app", null],
    ["https://origin.example.com:8443", null],
    ["https://origin.example.com:443", null],
    ["HTTPS://Origin.Example.COM", null],
    ["https://xn--bcher-kva.example", null],
    ["https://origin.example.com.", null],
    ["https://a-b.example.com", null],
    ["https://3com.example", null],
    [`https://${"a".repeat(63)}.example.com`, null],
  ])("accepts %s", (url, expected) => {
    expect(checkAdminUrl(url, STRICT)).toBe(expected);
  });

  test.each([
    ["not a url", "not a URL"],
    ["http://origin.example.com", "https"],
    ["ftp://origin.example.com", "https"],
    ["https://user@origin.example.com", "user name"],
    ["https://user:secret@origin.example.com", "user name"],
    ["https://:secret@origin.example.com", "user name"],
    ["https://192.0.2.1", "IP address"],
    ["https://127.0.0.1", "IP address"],
    ["https://2130706433", "IP address"],
    ["https://0x7f000001", "IP address"],
    ["https://0177.0.0.1", "IP address"],
    ["https://127.1", "IP address"],
    ["https://[::1]", "IP address"],
    ["https://[2001:db8::1]:443", "IP address"],
    ["https://[::ffff:127.0.0.1]", "IP address"],
    ["https://localhost", "fully qualified"],
    ["https://localhost.", "fully qualified"],
    // RFC 1123 (issue 16): one label with a final dot, empty labels, hyphens at a label's edge.
    ["https://vm.", "fully qualified"],
    ["https://runsc.", "fully qualified"],
    ["https://localhost..", "RFC 1123"],
    ["https://a..example.com", "RFC 1123"],
    ["https://-a.example.com", "RFC 1123"],
    ["https://a-.example.com", "RFC 1123"],
    ["https://a_b.example.com", "RFC 1123"],
    [`https://${"a".repeat(64)}.example.com`, "RFC 1123"],
    [`https://${"abcdefghi.".repeat(25)}example.com`, "RFC 1123"],
    ["https://localhost.localdomain", "local or private"],
    ["https://origin.123", "not a URL"], // the WHATWG parser itself refuses a numeric last label
    ["https://api.localhost", "local or private"],
    ["https://printer.local", "local or private"],
    ["https://db.corp.internal", "local or private"],
    ["https://nas.home.arpa", "local or private"],
    ["https://router.lan", "local or private"],
    ["https://wiki.intranet", "local or private"],
    ["https://LOCALHOST.LOCAL", "local or private"],
    ["https://origin", "fully qualified"],
    ["https://origin.example.com:8080", "ADMIN_ALLOWED_PORTS"],
    ["https://origin.example.com:80", "ADMIN_ALLOWED_PORTS"],
  ])("refuses %s (%s)", (url, reason) => {
    expect(checkAdminUrl(url, STRICT)).toContain(reason);
  });

  test("the allowed ports come from the rules", () => {
    expect(checkAdminUrl("https://origin.example.com:8080", { allowLocal: false, allowedPorts: [8080] })).toBeNull();
    expect(checkAdminUrl("https://origin.example.com:8443", { allowLocal: false, allowedPorts: [8080] })).toContain(
      "8443",
    );
  });

  test.each([
    "http://127.0.0.1:9001",
    "http://2130706433:9001",
    "http://localhost:9001",
    "http://[::1]:9001",
    "http://demo.local",
    "https://origin.example.com:8080",
  ])("ADMIN_ALLOW_LOCAL_ORIGINS lifts the rules for %s", (url) => {
    expect(checkAdminUrl(url, LOCAL)).toBeNull();
  });

  test("ADMIN_ALLOW_LOCAL_ORIGINS still refuses a user name or password", () => {
    expect(checkAdminUrl("http://user:pw@127.0.0.1:9001", LOCAL)).toContain("user name");
  });
});

describe("parseAddBody", () => {
  test("a full body becomes an add, url normalized, state active by default", () => {
    expect(parseAddBody({ id: "eu-3", url: "https://EU-3.example.com/app/", weight: 2, region: "eu" }, STRICT)).toEqual(
      {
        ok: true,
        value: {
          op: "add",
          origin: { id: "eu-3", url: "https://eu-3.example.com/app", weight: 2, region: "eu" },
          state: "active",
        },
      },
    );
  });

  test("an origin can be added drained or disabled", () => {
    const added = parseAddBody({ id: "a", url: "https://a.example.com", state: "disabled" }, STRICT);
    expect(added.ok && added.value).toMatchObject({ op: "add", state: "disabled" });
  });

  test.each([
    [null, "body"],
    ["text", "body"],
    [[], "body"],
    [{}, "id"],
    [{ id: "a" }, "url"],
    [{ url: "https://a.example.com" }, "id"],
    [{ id: "", url: "https://a.example.com" }, "id"],
    [{ id: "-a", url: "https://a.example.com" }, "id"],
    [{ id: "a".repeat(65), url: "https://a.example.com" }, "id"],
    [{ id: "a", url: 5 }, "url"],
    [{ id: "a", url: "https://a.example.com?q=1" }, "url"],
    [{ id: "a", url: "https://a.example.com#f" }, "url"],
    [{ id: "a", url: "http://a.example.com" }, "url"],
    [{ id: "a", url: "https://10.0.0.1" }, "url"],
    [{ id: "a", url: "https://a.example.com", weight: 0 }, "weight"],
    [{ id: "a", url: "https://a.example.com", weight: -1 }, "weight"],
    [{ id: "a", url: "https://a.example.com", weight: 101 }, "weight"],
    [{ id: "a", url: "https://a.example.com", weight: "1" }, "weight"],
    [{ id: "a", url: "https://a.example.com", region: "EU" }, "region"],
    [{ id: "a", url: "https://a.example.com", region: 1 }, "region"],
    [{ id: "a", url: "https://a.example.com", state: "up" }, "state"],
    [{ id: "a", url: "https://a.example.com", colour: "red" }, "colour"],
  ])("%j is refused naming %s", (body, field) => {
    expect(fieldsOf(parseAddBody(body, STRICT))).toContain(field);
  });
});

describe("parseUpdateBody", () => {
  test("only the fields given are changed; region null clears it", () => {
    expect(parseUpdateBody("a", { weight: 2.5 }, STRICT)).toEqual({
      ok: true,
      value: { op: "update", id: "a", fields: { weight: 2.5 } },
    });
    expect(parseUpdateBody("a", { region: null, url: "https://b.example.com/" }, STRICT)).toEqual({
      ok: true,
      value: { op: "update", id: "a", fields: { region: null, url: "https://b.example.com" } },
    });
  });

  test.each([
    [null, "body"],
    [{}, "body"],
    [{ id: "b" }, "id"],
    [{ state: "disabled" }, "state"],
    [{ weight: 0 }, "weight"],
    [{ weight: null }, "weight"],
    [{ url: "https://localhost" }, "url"],
    [{ url: "http://b.example.com" }, "url"],
    [{ region: "Bad Region" }, "region"],
  ])("%j is refused naming %s", (body, field) => {
    expect(fieldsOf(parseUpdateBody("a", body, STRICT))).toContain(field);
  });

  test("ADMIN_ALLOW_LOCAL_ORIGINS applies to updates too", () => {
    expect(parseUpdateBody("a", { url: "http://127.0.0.1:9001" }, LOCAL).ok).toBe(true);
  });
});

describe("parseStateBody", () => {
  test.each(["active", "draining", "disabled"] as const)("%s is a state", (state) => {
    expect(parseStateBody("a", { state })).toEqual({ ok: true, value: { op: "set-state", id: "a", state } });
  });

  test.each([
    [null, "body"],
    ["draining", "body"],
    [{ state: "draining", id: "b" }, "body"],
    [{}, "state"],
    [{ state: "down" }, "state"],
    [{ state: "ACTIVE" }, "state"],
  ])("%j is refused naming %s", (body, field) => {
    expect(fieldsOf(parseStateBody("a", body))).toEqual([field]);
  });
});

describe("admin settings", () => {
  test("defaults: status private, local origins refused, ports 443 and 8443, 16 KiB bodies", () => {
    const parsed = parseSettings({});
    expect(parsed.ok && parsed.value).toMatchObject({
      statusPublic: false,
      adminAllowLocalOrigins: false,
      adminAllowedPorts: [443, 8443],
      adminMaxBodyBytes: 16_384,
    });
  });

  test.each([
    ["STATUS_PUBLIC", "true", "statusPublic", true],
    ["STATUS_PUBLIC", true, "statusPublic", true],
    ["STATUS_PUBLIC", "0", "statusPublic", false],
    ["ADMIN_ALLOW_LOCAL_ORIGINS", "1", "adminAllowLocalOrigins", true],
    ["ADMIN_ALLOWED_PORTS", "8443, 443 ,9443", "adminAllowedPorts", [443, 8443, 9443]],
    ["ADMIN_ALLOWED_PORTS", 8443, "adminAllowedPorts", [8443]],
    ["ADMIN_ALLOWED_PORTS", [443, 8443, 443], "adminAllowedPorts", [443, 8443]],
    ["ADMIN_MAX_BODY_BYTES", "1024", "adminMaxBodyBytes", 1024],
  ] as const)("%s = %j gives %s %j", (name, raw, key, value) => {
    const parsed = parseSettings({ [name]: raw });
    expect(parsed.ok && parsed.value[key]).toEqual(value);
  });

  test.each([
    ["STATUS_PUBLIC", "yes"],
    ["ADMIN_ALLOW_LOCAL_ORIGINS", "on"],
    ["ADMIN_ALLOWED_PORTS", "443,"],
    ["ADMIN_ALLOWED_PORTS", "0"],
    ["ADMIN_ALLOWED_PORTS", "65536"],
    ["ADMIN_ALLOWED_PORTS", "https"],
    ["ADMIN_ALLOWED_PORTS", [443, "x"]],
    ["ADMIN_MAX_BODY_BYTES", "100"],
    ["ADMIN_MAX_BODY_BYTES", "2000000"],
  ])("%s = %j is refused, naming only that variable", (name, raw) => {
    expect(fieldsOf(parseSettings({ [name]: raw }))).toEqual([name]);
  });
});

// ---------------------------------------------------------------------------------------------
// The preview against the router itself.

const NOW = 1_800_000_000_000;
const POLICY: RoutingPolicy = { slowStartMs: 30_000, drainMs: 60_000, panicPercent: 50 };
const SLOTS = 100;

function record(id: string, weight = 1): OriginRecord {
  return {
    id,
    url: `https://${id}.example.com`,
    weight,
    region: null,
    state: "active",
    drainStartedAt: null,
    health: UNKNOWN_HEALTH,
  };
}

interface Scenario {
  readonly name: string;
  readonly before: PreviewSide;
  readonly after: PreviewSide;
}

/** The five kinds of change on a pool of `count` origins, each side as the Durable Object would hold it. */
function scenarios(count: number): Scenario[] {
  const origins = Array.from({ length: count }, (_, i) => record(`o${String(i).padStart(4, "0")}`));
  const layout = freshLayout(origins, SLOTS, 1);
  const before = { layout, origins };
  const target = origins[3]!.id;
  const withLayout = (next: OriginRecord[]): PreviewSide => ({
    layout: updateLayout(layout, next, SLOTS, 2).layout,
    origins: next,
  });
  const restate = (patch: Partial<OriginRecord>): PreviewSide => ({
    layout,
    origins: origins.map((o) => (o.id === target ? { ...o, ...patch } : o)),
  });
  return [
    { name: "remove", before, after: withLayout(origins.filter((o) => o.id !== target)) },
    { name: "add", before, after: withLayout([...origins, record("new-origin")]) },
    {
      name: "weight change",
      before,
      after: withLayout(origins.map((o) => (o.id === target ? { ...o, weight: 3 } : o))),
    },
    // Long enough ago that the drain ramp has finished: the state the preview describes.
    { name: "drain", before, after: restate({ state: "draining", drainStartedAt: NOW - 10 * POLICY.drainMs }) },
    { name: "disable", before, after: restate({ state: "disabled" }) },
  ];
}

/** The primary origin id for a key hash, as the Worker picks it (routing table, view, ring walk). */
function router(side: PreviewSide): (keyHash: number) => string | null {
  const table = buildRoutingTable({ epoch: 1, origins: side.origins, layouts: { "": side.layout } }, SLOTS);
  const view = routingView(table, POLICY, NOW);
  const out = new Uint32Array(1);
  return (keyHash) => (pickOrigins(table, view, keyHash, out) === 1 ? table.origins[out[0]!]!.id : null);
}

const flowKey = (from: string | null, to: string | null) => `${from}→${to}`;

/** Every IPv4 address of 172.16.0.0/12, keyed and hashed as the Worker does. */
function slash12Hashes(): Uint32Array {
  const hashes = new Uint32Array(1 << 20);
  for (let i = 0; i < hashes.length; i++) {
    const ip = `172.${16 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}`;
    hashes[i] = xxh32(clientKey(ip).bytes);
  }
  return hashes;
}

describe("previewChange against a brute-force count", () => {
  const cases = scenarios(10);
  let hashes: Uint32Array | null = null;

  test.each(cases.map((c) => [c.name, c] as const))(
    "%s on 10 origins: the moved share and every from → to flow match all 1,048,576 addresses of a /12 within 4σ",
    (_, { before, after }) => {
      hashes ??= slash12Hashes();
      const n = hashes.length;
      const preview = previewChange(before, after, NOW);
      const first = router(before);
      const second = router(after);
      const counted = new Map<string, number>();
      let moved = 0;
      for (const hash of hashes) {
        const from = first(hash);
        const to = second(hash);
        if (from === to) continue;
        moved++;
        counted.set(flowKey(from, to), (counted.get(flowKey(from, to)) ?? 0) + 1);
      }
      const within = (count: number, p: number) => {
        const sigma = Math.sqrt(n * p * (1 - p));
        return Math.abs(count - n * p) <= 4 * sigma;
      };
      expect(preview.share).toBeGreaterThan(0.05);
      expect(within(moved, preview.share), `moved ${moved} of ${n}, preview ${preview.share}`).toBe(true);
      const predicted = new Map(preview.flows.map((f) => [flowKey(f.from, f.to), f.share]));
      for (const key of new Set([...predicted.keys(), ...counted.keys()])) {
        const count = counted.get(key) ?? 0;
        const p = predicted.get(key) ?? 0;
        expect(within(count, p), `flow ${key}: counted ${count}, preview ${p}`).toBe(true);
      }
      // And the counts add up: share = Σ flows, addresses = share × 2^32.
      expect(preview.flows.reduce((sum, f) => sum + f.share, 0)).toBeCloseTo(preview.share, 12);
      expect(preview.ipv4Addresses).toBe(Math.round(preview.share * 2 ** 32));
      expect(preview.ipv6Prefixes).toBe(preview.share * 2 ** 64);
    },
    60_000,
  );
});

/**
 * The exact count: every key of an arc between two consecutive slot points (of either table) goes
 * to the same slot, so routing the arc's last key with the Worker's own router and weighing it by
 * the arc's length counts all 2^32 keys without sampling.
 */
function exactMoves(before: PreviewSide, after: PreviewSide): { moved: number; flows: Map<string, number> } {
  const points = new Set<number>([2 ** 32]);
  for (const side of [before, after]) {
    const size = side.layout.owners.length;
    for (let i = 0; i < size; i++) points.add(Math.floor((i * 2 ** 32) / size));
  }
  const ends = [...points].sort((a, b) => a - b);
  const first = router(before);
  const second = router(after);
  const flows = new Map<string, number>();
  let moved = 0;
  let start = 0;
  for (const end of ends) {
    // The arc (start, end] holds end − start keys; key 2^32 stands for key 0 (the ring wraps), so
    // the first point, 0, closes an empty arc.
    const key = end === 2 ** 32 ? 0 : end;
    const width = end - start;
    const from = first(key);
    const to = second(key);
    if (from !== to) {
      moved += width;
      flows.set(flowKey(from, to), (flows.get(flowKey(from, to)) ?? 0) + width);
    }
    start = end;
  }
  return { moved, flows };
}

function expectExact(preview: Preview, exact: { moved: number; flows: Map<string, number> }): void {
  expect(preview.ipv4Addresses).toBe(exact.moved);
  const flows = new Map(preview.flows.map((f) => [flowKey(f.from, f.to), Math.round(f.share * 2 ** 32)]));
  expect(flows).toEqual(exact.flows);
}

describe("previewChange is exact", () => {
  test.each(scenarios(10).map((c) => [c.name, c] as const))(
    "%s on 10 origins (65,537 slots): equal to the router's count over all 2^32 keys",
    (_, { before, after }) => {
      expectExact(previewChange(before, after, NOW), exactMoves(before, after));
    },
  );

  test("remove on 700 origins (131,071 slots, uneven arcs): equal to the router's count over all 2^32 keys", () => {
    const { before, after } = scenarios(700)[0]!;
    expect(before.layout.owners.length).toBe(131_071);
    expectExact(previewChange(before, after, NOW), exactMoves(before, after));
  }, 60_000);

  test("a refill (another table size) is counted over the union of both tables' arcs", () => {
    const { before } = scenarios(10)[0]!;
    const after = { layout: freshLayout(before.origins, 20_000, 2), origins: before.origins };
    expect(after.layout.owners.length).not.toBe(before.layout.owners.length);
    const preview = previewChange(before, after, NOW);
    expect(preview.share).toBeGreaterThan(0.5);
    expectExact(preview, exactMoves(before, after));
  }, 60_000);

  test("no change moves nobody; removing an origin that is down moves nobody either", () => {
    const { before } = scenarios(10)[0]!;
    expect(previewChange(before, before, NOW)).toEqual({ share: 0, ipv4Addresses: 0, ipv6Prefixes: 0, flows: [] });
    const victim = before.origins[2]!.id;
    const down = {
      layout: before.layout,
      origins: before.origins.map((o) =>
        o.id === victim ? { ...o, health: { ...UNKNOWN_HEALTH, status: "down" as const } } : o,
      ),
    };
    // Its clients are already on their ring successors, which is where removal hands its slots
    // (up to the heirs' slack: README "Ring").
    const kept = down.origins.filter((o) => o.id !== victim);
    const removed = { layout: updateLayout(down.layout, kept, SLOTS, 2).layout, origins: kept };
    expect(previewChange(down, removed, NOW).share).toBeLessThan(0.01);
  });
});
