import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { targetUrl } from "../../../src/core/proxy/target-url.ts";

const BASE = "https://origin.example:8443/base";
const LB = "https://lb.example";

// The two ways a request target reaches the Worker as a parsed URL: resolved as a reference
// against the balancer's address, and (origin-form, "GET //evil.example/x HTTP/1.1") appended to
// the scheme and Host, which keeps a leading "//" in the path. Texts that are no URL are left out.
function parsedTargets(target: string): URL[] {
  const parsed: URL[] = [];
  for (const make of [() => new URL(target, LB), () => new URL(LB + target)]) {
    try {
      parsed.push(make());
    } catch {
      // Not a URL: the runtime would never hand such a request to the Worker.
    }
  }
  return parsed;
}

function expectStaysOnOrigin(base: string, u: URL): void {
  const origin = new URL(base);
  const sent = new URL(targetUrl(base, u.pathname, u.search));
  expect({ protocol: sent.protocol, hostname: sent.hostname, port: sent.port }).toEqual({
    protocol: origin.protocol,
    hostname: origin.hostname,
    port: origin.port,
  });
  expect(sent.username + sent.password).toBe("");
  // The runtime only ever hands the Worker http(s) URLs, whose paths carry no dot segments; a
  // path from another scheme (e.g. "a:..") is outside targetUrl's contract, so only the host is
  // checked for those.
  if (u.protocol === "https:" || u.protocol === "http:") {
    const basePath = origin.pathname === "/" ? "" : origin.pathname;
    expect(sent.pathname === basePath || sent.pathname.startsWith(basePath + "/")).toBe(true);
  }
}

describe("targetUrl", () => {
  test.each([
    ["https://o.example", "/", "", "https://o.example/"],
    ["https://o.example", "/a/b", "?q=1&r=2", "https://o.example/a/b?q=1&r=2"],
    ["https://o.example", "/a/b", "?", "https://o.example/a/b?"],
    ["https://o.example:8443/base", "/", "", "https://o.example:8443/base/"],
    ["https://o.example:8443/base", "/x/y", "?z", "https://o.example:8443/base/x/y?z"],
    ["https://o.example/a/b", "/c", "", "https://o.example/a/b/c"],
    ["http://127.0.0.1:8080", "/a%2Fb", "?u=%2F%2Fevil", "http://127.0.0.1:8080/a%2Fb?u=%2F%2Fevil"],
    ["https://o.example", "//evil.example/x", "", "https://o.example//evil.example/x"],
    ["https://o.example/base", "//evil.example/x", "?y", "https://o.example/base//evil.example/x?y"],
    ["https://o.example", "x", "", "https://o.example/x"],
    ["http://[::1]:8080", "/p", "", "http://[::1]:8080/p"],
  ])("(%j, %j, %j) → %j", (base, pathname, search, expected) => {
    expect(targetUrl(base, pathname, search)).toBe(expected);
  });

  test("the naive new URL(pathname, base) DOES hand //evil.example/x to evil.example; targetUrl does NOT", () => {
    const u = new URL(LB + "//evil.example/x");
    expect(u.pathname).toBe("//evil.example/x");
    expect(new URL(u.pathname, BASE).host).toBe("evil.example");
    const sent = new URL(targetUrl(BASE, u.pathname, u.search));
    expect(sent.host).toBe("origin.example:8443");
    expect(sent.pathname).toBe("/base//evil.example/x");
  });

  test.each([
    "//evil.example/x",
    "///evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example/x",
    "/%2F%2Fevil.example/x",
    "/%5C%5Cevil.example/x",
    "/@evil.example/x",
    "/:@evil.example:9/x",
    "/..//evil.example/x",
    "/base/../../../x",
    "/%2e%2e/%2E%2e/x",
    "/.%2e//127.0.0.2:9/x",
    "http://evil.example/x",
    "https://user:pw@127.0.0.2:9/x?y#z",
    "?//evil.example",
    "#//evil.example",
    "/x?#@evil.example",
  ])("does NOT leave the origin (host, port, scheme or base path) for the target %j", (target) => {
    const parsed = parsedTargets(target);
    expect(parsed.length).toBeGreaterThan(0);
    for (const base of [BASE, "https://origin.example", "http://127.0.0.1:8080/a/b"]) {
      for (const u of parsed) expectStaysOnOrigin(base, u);
    }
  });
});

describe("targetUrl properties", () => {
  const piece = fc.oneof(
    fc.constantFrom(
      "/",
      "//",
      "\\",
      "\\\\",
      "%2F",
      "%2f",
      "%5C",
      "%5c",
      "%2e",
      "%2E%2e",
      "@",
      "..",
      ".",
      ":",
      "?",
      "#",
      "%",
      "%00",
      "evil.example",
      "127.0.0.2:9",
      "[::1]",
      "user:pw@",
      "http:",
      "https://",
      "javascript:",
      "\t",
      " ",
      "\n",
    ),
    fc.string({ unit: "binary", maxLength: 4 }),
    fc.string({ unit: "grapheme-ascii", maxLength: 4 }),
  );
  const targetArb = fc.array(piece, { maxLength: 14 }).map((parts) => parts.join(""));

  test("no request target changes the origin's scheme, host or port, nor escapes its base path", () => {
    fc.assert(
      fc.property(targetArb, fc.constantFrom(BASE, "https://origin.example", "http://10.0.0.1:81/a/b"), (t, base) => {
        for (const u of parsedTargets(t)) expectStaysOnOrigin(base, u);
      }),
      { numRuns: 3_000 },
    );
  });
});
