import { describe, expect, test } from "vitest";
import {
  cookieValue,
  parseAffinitySource,
  sourceKeyHash,
  type AffinitySource,
} from "../../../src/core/key/affinity-key.ts";

const parse = (raw: unknown): AffinitySource => {
  const parsed = parseAffinitySource(raw);
  if (!parsed.ok) throw new Error(parsed.errors[0]!.message);
  return parsed.value;
};

describe("AFFINITY_KEY", () => {
  test.each([
    [undefined, { kind: "ip" }],
    ["ip", { kind: "ip" }],
    ["header:X-User-Id", { kind: "header", name: "x-user-id" }],
    ["cookie:session", { kind: "cookie", name: "session" }],
    ["path", { kind: "path", depth: 0 }],
    ["path:2", { kind: "path", depth: 2 }],
  ])("%j parses to %j", (raw, expected) => expect(parse(raw)).toEqual(expected));

  test.each([
    "header:",
    "header:bad name",
    "cookie:",
    "path:0",
    "path:17",
    "path:x",
    "uri",
    5,
    "header:CF-Connecting-IP",
  ])("%j is refused with the field named", (raw) => {
    const parsed = parseAffinitySource(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors[0]!.field).toBe("AFFINITY_KEY");
  });
});

describe("cookie values (RFC 6265 cookie-string)", () => {
  test.each([
    ["a=1; session=abc; b=2", "abc"],
    ["session=abc", "abc"],
    ['session="quoted"', "quoted"],
    ["  session = spaced ;x=1", "spaced"],
    ["xsession=no; session=yes", "yes"],
    ["session=first; session=second", "first"],
    ["a=1; b=2", null],
    ["session", null],
  ])("%j → %j", (header, expected) => expect(cookieValue(header, "session")).toBe(expected));
  test("no header, no value", () => expect(cookieValue(null, "session")).toBeNull());
});

describe("source key hashes", () => {
  const headers = (init: Record<string, string>) => new Headers(init);

  test("ip never takes a key from the request: the address is used", () => {
    expect(sourceKeyHash(parse("ip"), headers({ "x-user-id": "u1" }), "/a")).toBeNull();
  });

  test("a header key is its trimmed value; absent, empty or oversized falls back (null)", () => {
    const source = parse("header:X-User-Id");
    const one = sourceKeyHash(source, headers({ "x-user-id": "user-1" }), "/");
    expect(one).not.toBeNull();
    expect(sourceKeyHash(source, headers({ "X-User-Id": "  user-1 " }), "/other")).toBe(one);
    expect(sourceKeyHash(source, headers({ "x-user-id": "user-2" }), "/")).not.toBe(one);
    expect(sourceKeyHash(source, headers({}), "/")).toBeNull();
    expect(sourceKeyHash(source, headers({ "x-user-id": "  " }), "/")).toBeNull();
    expect(sourceKeyHash(source, headers({ "x-user-id": "u".repeat(257) }), "/")).toBeNull();
  });

  test("a cookie key is the cookie's value; other cookies do not matter", () => {
    const source = parse("cookie:session");
    const one = sourceKeyHash(source, headers({ cookie: "session=abc; theme=dark" }), "/");
    expect(one).not.toBeNull();
    expect(sourceKeyHash(source, headers({ cookie: "theme=light; session=abc" }), "/x")).toBe(one);
    expect(sourceKeyHash(source, headers({ cookie: "theme=light" }), "/")).toBeNull();
  });

  test("a path key is the path (or its first segments), never the query", () => {
    const whole = parse("path");
    const two = parse("path:2");
    expect(sourceKeyHash(whole, headers({}), "/a/b/c")).not.toBe(sourceKeyHash(whole, headers({}), "/a/b/d"));
    expect(sourceKeyHash(two, headers({}), "/a/b/c")).toBe(sourceKeyHash(two, headers({}), "/a/b/d"));
    expect(sourceKeyHash(two, headers({}), "/a/b")).toBe(sourceKeyHash(two, headers({}), "/a/b/c"));
    expect(sourceKeyHash(two, headers({}), "/a")).not.toBe(sourceKeyHash(two, headers({}), "/a/b"));
  });

  test("the same text from different sources hashes apart", () => {
    const h = sourceKeyHash(parse("header:x-k"), headers({ "x-k": "/a" }), "/");
    const c = sourceKeyHash(parse("cookie:k"), headers({ cookie: "k=/a" }), "/");
    const p = sourceKeyHash(parse("path"), headers({}), "/a");
    expect(new Set([h, c, p]).size).toBe(3);
  });
});
