import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { originHost, splitRequestUrl } from "../../../src/core/proxy/request-url.ts";

// What URL itself gives: the reference splitRequestUrl must match on every serialized URL.
const byUrl = (href: string) => {
  const url = new URL(href);
  return { origin: url.origin, pathname: url.pathname, search: url.search };
};

const hosts = fc.constantFrom(
  "example.com",
  "lb.example:8443",
  "127.0.0.1:8787",
  "[::1]:8787",
  "[2001:db8::1]",
  "xn--caf-dma.example",
  "EXAMPLE.com:80",
  "a.example:443",
  "user@a.example",
  "user:pw@b.example:81",
);
// Text a path, query or fragment may carry before the URL is serialized: separators, dot
// segments, percent signs, backslashes, unicode, "@" and ":".
const piece = fc.oneof(
  fc.constantFrom(
    "",
    "/",
    "?",
    "#",
    "??",
    "#?",
    "?#",
    "..",
    ".",
    "%2e",
    "%",
    "%zz",
    "\\",
    "@",
    ":",
    " ",
    "é",
    "a=1&b=2",
  ),
  fc.webSegment(),
  fc.string({ maxLength: 8 }),
);
const urls = fc
  .tuple(fc.constantFrom("http://", "https://", "HTTP://", "ws://", "ftp://"), hosts, fc.array(piece, { maxLength: 8 }))
  .map(([scheme, host, pieces]) => `${scheme}${host}/${pieces.join("")}`)
  .filter((text) => URL.canParse(text))
  .map((text) => new URL(text).href);

describe("splitRequestUrl", () => {
  test("gives what URL gives for origin, pathname and search, on any serialized URL", () => {
    fc.assert(
      fc.property(urls, (href) => {
        expect(splitRequestUrl(href)).toEqual(byUrl(href));
      }),
      { numRuns: 5_000 },
    );
  });

  test.each([
    ["http://example.com/", { origin: "http://example.com", pathname: "/", search: "" }],
    ["https://lb.example:8443/a/b?x=1", { origin: "https://lb.example:8443", pathname: "/a/b", search: "?x=1" }],
    ["http://example.com/q?", { origin: "http://example.com", pathname: "/q", search: "" }],
    ["http://example.com/q?a=1?b#f?g", { origin: "http://example.com", pathname: "/q", search: "?a=1?b" }],
    ["http://example.com/p#f?not-a-query", { origin: "http://example.com", pathname: "/p", search: "" }],
    ["http://[::1]:8787//double", { origin: "http://[::1]:8787", pathname: "//double", search: "" }],
    ["http://u:p@example.com/x?y", { origin: "http://example.com", pathname: "/x", search: "?y" }],
    ["http://example.com/a@b/c", { origin: "http://example.com", pathname: "/a@b/c", search: "" }],
  ])("%s", (href, expected) => {
    expect(splitRequestUrl(href)).toEqual(expected);
    expect(byUrl(href)).toEqual(expected);
  });
});

describe("originHost", () => {
  test.each(["http://example.com/", "https://lb.example:8443/x", "http://[::1]:8787/", "http://u:p@a.example:81/"])(
    "is URL.host for %s",
    (href) => expect(originHost(splitRequestUrl(href).origin)).toBe(new URL(href).host),
  );
});
